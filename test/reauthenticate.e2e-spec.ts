import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, login, signup, type LoggedIn, type TestApp, type TestUser } from './utils/test-app';

/**
 * Re-authentication ("sudo mode"): ending other sessions needs the password proved within
 * REAUTH_MAX_AGE seconds (the login, or POST /reauthenticate); ending one's own session never does.
 */
describe('Re-authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOGIN_LIMIT_ACCOUNT_ADDRESS: '3' }, { captureLogs: true });
  });
  afterAll(() => t.close());

  const sessions = () => t.dataSource.getRepository(Session);
  const isActive = async (s: LoggedIn) => (await sessions().findOneByOrFail({ id: s.body.session.id })).isActive;
  const REAUTH_403 = {
    statusCode: 403,
    error: 'Forbidden',
    message: expect.stringContaining('/reauthenticate'),
    reason: 'reauthentication_required',
  };

  async function twoDevices(): Promise<{ user: TestUser; laptop: LoggedIn; phone: LoggedIn }> {
    const user = await signup(t.http);
    const laptop = await login(t.http, user, 'Laptop');
    const phone = await login(t.http, user, 'Phone');
    return { user, laptop, phone };
  }

  it('lets a fresh login end other sessions at once (a client that sends nothing new works unchanged)', async () => {
    const { laptop, phone } = await twoDevices();
    t.clock.advance(590);
    await request(t.http).delete(`/active_sessions/${phone.body.session.id}`).set('Cookie', laptop.cookie).expect(204);
    const another = await login(t.http, { email: laptop.body.user.email as string, password: 'correct horse battery' });
    t.clock.advance(9);
    const res = await request(t.http).delete('/active_sessions').set('Cookie', laptop.cookie).expect(200);
    expect(res.body).toEqual({ revoked: 1 });
    expect(await isActive(another)).toBe(false);
  });

  it('past REAUTH_MAX_AGE: 403 reauthentication_required and nothing ends; after POST /reauthenticate it works', async () => {
    const { user, laptop, phone } = await twoDevices();
    t.clock.advance(601);
    const one = await request(t.http).delete(`/active_sessions/${phone.body.session.id}`).set('Cookie', laptop.cookie);
    expect(one.status).toBe(403);
    expect(one.body).toEqual(REAUTH_403);
    const all = await request(t.http).delete('/active_sessions').set('Cookie', laptop.cookie);
    expect(all.status).toBe(403);
    expect(all.body).toEqual(REAUTH_403);
    expect(await isActive(phone)).toBe(true);
    expect(await isActive(laptop)).toBe(true);

    const before = t.clock.now().getTime();
    const reauth = await request(t.http)
      .post('/reauthenticate')
      .set('Cookie', laptop.cookie)
      .send({ password: user.password })
      .expect(200);
    expect(Object.keys(reauth.body)).toEqual(['auth_time']);
    expect(new Date(reauth.body.auth_time).getTime()).toBeGreaterThanOrEqual(before);
    const status = await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(200);
    expect(status.body.auth_time).toBe(reauth.body.auth_time);
    expect(status.body.session.auth_time).toBe(reauth.body.auth_time);
    // Only this session was re-authenticated: the phone's auth_time is still its login's.
    const phoneRow = await sessions().findOneByOrFail({ id: phone.body.session.id });
    expect(phoneRow.authTime.toISOString()).toBe(phone.body.session.auth_time);

    await request(t.http).delete(`/active_sessions/${phone.body.session.id}`).set('Cookie', laptop.cookie).expect(204);
    expect(await isActive(phone)).toBe(false);
    // Good for REAUTH_MAX_AGE seconds from the re-authentication, not longer.
    const tablet = await login(t.http, user, 'Tablet');
    t.clock.advance(590);
    await request(t.http).delete('/active_sessions').set('Cookie', laptop.cookie).expect(200);
    const desk = await login(t.http, user, 'Desk');
    t.clock.advance(11);
    await request(t.http).delete('/active_sessions').set('Cookie', laptop.cookie).expect(403);
    expect(await isActive(tablet)).toBe(false);
    expect(await isActive(desk)).toBe(true);
  });

  it("never needs it to end one's own current session (a logout)", async () => {
    const { laptop } = await twoDevices();
    t.clock.advance(3600);
    await request(t.http).delete(`/active_sessions/${laptop.body.session.id}`).set('Cookie', laptop.cookie).expect(204);
    expect(await isActive(laptop)).toBe(false);
  });

  it("answers 404 before 403: an unknown id, an ended session or another user's gives 404 even when re-authentication is due", async () => {
    const { laptop } = await twoDevices();
    const stranger = await login(t.http, await signup(t.http));
    t.clock.advance(601);
    for (const id of [999999, stranger.body.session.id]) {
      const res = await request(t.http).delete(`/active_sessions/${id}`).set('Cookie', laptop.cookie);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Session not found' });
    }
    expect(await isActive(stranger)).toBe(true);
  });

  it('refuses a wrong password with 401, keeping the session and its auth_time', async () => {
    const { laptop } = await twoDevices();
    t.clock.advance(601);
    const res = await request(t.http)
      .post('/reauthenticate')
      .set('Cookie', laptop.cookie)
      .send({ password: 'not the password' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Password is incorrect' });
    expect(res.headers['set-cookie']).toBeUndefined();
    await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(200);
    const row = await sessions().findOneByOrFail({ id: laptop.body.session.id });
    expect(row.isActive).toBe(true);
    expect(row.authTime.toISOString()).toBe(laptop.body.session.auth_time);
    await request(t.http).delete('/active_sessions').set('Cookie', laptop.cookie).expect(403);
  });

  it('counts wrong passwords like failed logins: 429 with Retry-After past LOGIN_LIMIT_ACCOUNT_ADDRESS, even with the right one', async () => {
    const { user, laptop } = await twoDevices();
    for (let i = 0; i < 3; i++)
      await request(t.http)
        .post('/reauthenticate')
        .set('Cookie', laptop.cookie)
        .send({ password: 'wrong' })
        .expect(401);
    const blocked = await request(t.http)
      .post('/reauthenticate')
      .set('Cookie', laptop.cookie)
      .send({ password: user.password });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The same count as the login form's.
    await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(429);
    await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(200);
    t.clock.advance(t.config.loginLimits.windowSeconds + 1);
    await request(t.http)
      .post('/reauthenticate')
      .set('Cookie', laptop.cookie)
      .send({ password: user.password })
      .expect(200);
  });

  it('needs a session, and a body with the password', async () => {
    const { laptop } = await twoDevices();
    const signedOut = await request(t.http).post('/reauthenticate').send({ password: 'x' });
    expect(signedOut.status).toBe(401);
    expect(signedOut.body).toMatchObject({ authenticated: false, reason: 'missing' });
    await request(t.http).post('/reauthenticate').set('Cookie', laptop.cookie).send({}).expect(400);
    await request(t.http)
      .post('/reauthenticate')
      .set('Cookie', laptop.cookie)
      .send({ password: 'x', auth_time: '2030-01-01T00:00:00.000Z' })
      .expect(400);
  });

  it('logs reauthenticated and reauth_failed with ids only', async () => {
    const { user, laptop } = await twoDevices();
    const from = t.logs.length;
    await request(t.http).post('/reauthenticate').set('Cookie', laptop.cookie).send({ password: 'wrong' }).expect(401);
    await request(t.http)
      .post('/reauthenticate')
      .set('Cookie', laptop.cookie)
      .send({ password: user.password })
      .expect(200);
    const events = t.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.event === 'reauth_failed')).toMatchObject({
      user_id: user.id,
      session_id: laptop.body.session.id,
    });
    expect(events.find((e) => e.event === 'reauthenticated')).toMatchObject({
      user_id: user.id,
      session_id: laptop.body.session.id,
    });
    expect(t.logs.slice(from).join('\n')).not.toContain(user.password);
  });
});

describe('/session_status deadlines', () => {
  it('reports expires_at and auth_time, and idle_expires_at only with an idle timeout', async () => {
    const plain = await createTestApp();
    try {
      const user = await signup(plain.http);
      const s = await login(plain.http, user);
      const res = await request(plain.http).get('/session_status').set('Cookie', s.cookie).expect(200);
      expect(res.body.expires_at).toBe(s.body.session.expires_at);
      expect(res.body.auth_time).toBe(s.body.session.auth_time);
      expect(res.body).not.toHaveProperty('idle_expires_at');
    } finally {
      await plain.close();
    }

    const idle = await createTestApp({ SESSION_IDLE_TIMEOUT: '600' });
    try {
      const user = await signup(idle.http);
      const s = await login(idle.http, user);
      const first = await request(idle.http).get('/session_status').set('Cookie', s.cookie).expect(200);
      const loginTime = new Date(s.body.session.login_time as string).getTime();
      expect(new Date(first.body.idle_expires_at).getTime()).toBe(loginTime + 600_000);
      // Writes of last_activity are coalesced (at most every 60 s here): the deadline moves with them.
      idle.clock.advance(30);
      const second = await request(idle.http).get('/session_status').set('Cookie', s.cookie).expect(200);
      expect(second.body.idle_expires_at).toBe(first.body.idle_expires_at);
      expect(new Date(second.body.idle_expires_at).getTime()).toBe(
        new Date(second.body.session.last_activity as string).getTime() + 600_000,
      );
      idle.clock.advance(60);
      const third = await request(idle.http).get('/session_status').set('Cookie', s.cookie).expect(200);
      expect(third.body.idle_expires_at).toBe(
        new Date(new Date(third.body.session.last_activity as string).getTime() + 600_000).toISOString(),
      );
      expect(new Date(third.body.idle_expires_at).getTime()).toBeGreaterThan(
        new Date(first.body.idle_expires_at as string).getTime(),
      );
    } finally {
      await idle.close();
    }
  });
});
