import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, login, sessionSetCookie, signup, type TestApp } from './utils/test-app';

describe('Sessions on several devices', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  async function threeDevices() {
    const user = await signup(t.http);
    const laptop = await login(t.http, user, 'Laptop');
    t.clock.advance(1);
    const phone = await login(t.http, user, 'Phone');
    t.clock.advance(1);
    const tablet = await login(t.http, user, 'Tablet');
    return { user, laptop, phone, tablet };
  }

  it('lets one user be signed in on several devices at once, listed newest first with the current one marked', async () => {
    const { laptop, phone, tablet } = await threeDevices();
    for (const device of [laptop, phone, tablet])
      await request(t.http).get('/session_status').set('Cookie', device.cookie).expect(200);
    const res = await request(t.http).get('/active_sessions').set('Cookie', phone.cookie).expect(200);
    expect(res.body.sessions.map((s: { user_agent: string }) => s.user_agent)).toEqual(['Tablet', 'Phone', 'Laptop']);
    expect(res.body.sessions.map((s: { current: boolean }) => s.current)).toEqual([false, true, false]);
    // Each was made with a password.
    expect(res.body.sessions.map((s: { amr: string[] }) => s.amr)).toEqual([['pwd'], ['pwd'], ['pwd']]);
    expect(Object.keys(res.body.sessions[0]).sort()).toEqual(
      [
        'amr',
        'auth_time',
        'current',
        'device',
        'expires_at',
        'id',
        'ip_address',
        'is_active',
        'last_activity',
        'location',
        'login_time',
        'logout_time',
        'new_device',
        'remember_me',
        'user_agent',
      ].sort(),
    );
  });

  it("shows only the caller's own sessions", async () => {
    const a = await threeDevices();
    const b = await signup(t.http);
    const bSession = await login(t.http, b);
    const res = await request(t.http).get('/active_sessions').set('Cookie', bSession.cookie).expect(200);
    expect(res.body.sessions).toHaveLength(1);
    expect(res.body.sessions[0].id).not.toBe(a.laptop.body.session.id);
  });

  it('ends one other session (reason revoked) with 204, leaving the rest', async () => {
    const { laptop, phone, tablet } = await threeDevices();
    await request(t.http).delete(`/active_sessions/${phone.body.session.id}`).set('Cookie', laptop.cookie).expect(204);
    const status = await request(t.http).get('/session_status').set('Cookie', phone.cookie).expect(401);
    expect(status.body.reason).toBe('revoked');
    await request(t.http).get('/session_status').set('Cookie', tablet.cookie).expect(200);
    await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(200);
    const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: phone.body.session.id });
    expect(row).toMatchObject({ isActive: false, endReason: 'revoked' });
    expect(row.logoutTime).not.toBeNull();
  });

  it('ending the current session is a logout: reason logged_out and the cookie cleared', async () => {
    const { laptop } = await threeDevices();
    const res = await request(t.http)
      .delete(`/active_sessions/${laptop.body.session.id}`)
      .set('Cookie', laptop.cookie)
      .expect(204);
    expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/^session_token=;/);
    const status = await request(t.http).get('/session_status').set('Cookie', laptop.cookie).expect(401);
    expect(status.body.reason).toBe('logged_out');
  });

  it("answers 404 for another user's session, an unknown id and an already ended one, and changes nothing", async () => {
    const a = await threeDevices();
    const b = await signup(t.http);
    const bSession = await login(t.http, b);
    await request(t.http)
      .delete(`/active_sessions/${a.phone.body.session.id}`)
      .set('Cookie', bSession.cookie)
      .expect(404);
    await request(t.http).get('/session_status').set('Cookie', a.phone.cookie).expect(200);
    await request(t.http).delete('/active_sessions/999999').set('Cookie', bSession.cookie).expect(404);
    await request(t.http)
      .delete(`/active_sessions/${a.phone.body.session.id}`)
      .set('Cookie', a.laptop.cookie)
      .expect(204);
    const again = await request(t.http)
      .delete(`/active_sessions/${a.phone.body.session.id}`)
      .set('Cookie', a.laptop.cookie)
      .expect(404);
    expect(again.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Session not found' });
  });

  it.each(['abc', '1.5', '-1', '0', '1e3', '99999999999', '%20'])('answers 400 to a session id of %p', async (id) => {
    const { laptop } = await threeDevices();
    const res = await request(t.http).delete(`/active_sessions/${id}`).set('Cookie', laptop.cookie).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'id must be a positive integer' });
  });

  it('ends all other sessions with DELETE /active_sessions and says how many', async () => {
    const { laptop, phone, tablet } = await threeDevices();
    const res = await request(t.http).delete('/active_sessions').set('Cookie', tablet.cookie).expect(200);
    expect(res.body).toEqual({ revoked: 2 });
    for (const ended of [laptop, phone]) {
      const status = await request(t.http).get('/session_status').set('Cookie', ended.cookie).expect(401);
      expect(status.body.reason).toBe('revoked');
    }
    const list = await request(t.http).get('/active_sessions').set('Cookie', tablet.cookie).expect(200);
    expect(list.body.sessions).toHaveLength(1);
    expect(list.body.sessions[0]).toMatchObject({ id: tablet.body.session.id, current: true });
    const again = await request(t.http).delete('/active_sessions').set('Cookie', tablet.cookie).expect(200);
    expect(again.body).toEqual({ revoked: 0 });
  });

  it('answers 404 for an own session already past its expiry, and records it as expired', async () => {
    const { user, laptop } = await threeDevices();
    t.clock.advance(86400);
    const fresh = await login(t.http, user);
    await request(t.http).delete(`/active_sessions/${laptop.body.session.id}`).set('Cookie', fresh.cookie).expect(404);
    const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: laptop.body.session.id });
    expect(row).toMatchObject({ isActive: false, endReason: 'expired' });
  });

  it('does not list expired sessions', async () => {
    const { user } = await threeDevices();
    t.clock.advance(86400);
    const fresh = await login(t.http, user);
    const res = await request(t.http).get('/active_sessions').set('Cookie', fresh.cookie).expect(200);
    expect(res.body.sessions.map((s: { id: number }) => s.id)).toEqual([fresh.body.session.id]);
  });
});
