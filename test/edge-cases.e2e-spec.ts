import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, login, sessionSetCookie, signup, type TestApp, type TestUser } from './utils/test-app';

/** An unknown token of the right shape (it costs a lookup and names no session). */
const UNKNOWN = 'A'.repeat(43);

describe('Several session cookies on one request (issue 17)', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await signup(t.http);
  });
  afterAll(() => t.close());

  /** A token whose session has ended (logged out). */
  async function endedToken(): Promise<string> {
    const { token } = await login(t.http, user);
    await request(t.http).post('/logout').set('Cookie', `session_token=${token}`).expect(200);
    return token;
  }

  it('a bad cookie before or after the good one never hides it', async () => {
    const { token } = await login(t.http, user);
    const ended = await endedToken();
    for (const bad of ['garbage', '', '%ZZ%', UNKNOWN, ended]) {
      for (const cookie of [
        `session_token=${bad}; session_token=${token}`,
        `session_token=${token}; session_token=${bad}`,
      ]) {
        const res = await request(t.http).get('/session_status').set('Cookie', cookie);
        expect({ cookie, status: res.status }).toEqual({ cookie, status: 200 });
        expect(res.body.user.id).toBe(user.id);
      }
    }
    // A protected route, with other cookies around and a path-scoped duplicate as a browser sends it.
    await request(t.http)
      .get('/active_sessions')
      .set('Cookie', `theme=dark; session_token=${UNKNOWN}; x_session_token=1; session_token=${token}; lang=en`)
      .expect(200);
  });

  it('when none authenticates: 401 with the first reason that says more than `invalid`', async () => {
    const ended = await endedToken();
    const res = await request(t.http)
      .get('/session_status')
      .set('Cookie', `session_token=garbage; session_token=${UNKNOWN}; session_token=${ended}`)
      .expect(401);
    expect(res.body).toMatchObject({ authenticated: false, reason: 'logged_out' });
    const invalid = await request(t.http)
      .get('/active_sessions')
      .set('Cookie', `session_token=garbage; session_token=${UNKNOWN}`)
      .expect(401);
    expect(invalid.body.reason).toBe('invalid');
  });

  it('tries at most four well-formed values (each costs a lookup); repeats and malformed ones do not count', async () => {
    const { token } = await login(t.http, user);
    const unknown = (i: number) => `session_token=${String(i).repeat(43)}`;
    const three = [1, 2, 3].map(unknown).join('; ');
    const four = [1, 2, 3, 4].map(unknown).join('; ');
    await request(t.http).get('/session_status').set('Cookie', `${three}; session_token=${token}`).expect(200);
    const past = await request(t.http)
      .get('/session_status')
      .set('Cookie', `${four}; session_token=${token}`)
      .expect(401);
    expect(past.body.reason).toBe('invalid');
    await request(t.http)
      .get('/session_status')
      .set('Cookie', `${three}; ${unknown(1)}; session_token=bad; session_token=${token}`)
      .expect(200);
  });

  it('logging in with several cookies ends the session they name (no fixation), as with one', async () => {
    const { token, body } = await login(t.http, user);
    const res = await request(t.http)
      .post('/login')
      .set('Cookie', `session_token=${UNKNOWN}; session_token=${token}`)
      .send({ email: user.email, password: user.password })
      .expect(200);
    expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/^session_token=[A-Za-z0-9_-]{43};/);
    const old = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
    expect(old).toMatchObject({ isActive: false, endReason: 'logged_out' });
  });

  it('the name appearing only inside another cookie is no session cookie (reason missing)', async () => {
    const res = await request(t.http)
      .get('/session_status')
      .set('Cookie', `x_session_token=${UNKNOWN}; other=session_token=${UNKNOWN}`)
      .expect(401);
    expect(res.body.reason).toBe('missing');
  });
});

describe('Several __Host- session cookies with SESSION_COOKIE_SECURE=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_COOKIE_SECURE: 'true' });
  });
  afterAll(() => t.close());

  it('tries each __Host-session_token, and never a plain session_token', async () => {
    const user = await signup(t.http);
    const res = await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(200);
    const token = /^__Host-session_token=([^;]+)/.exec(sessionSetCookie(res.headers['set-cookie']))![1];
    await request(t.http)
      .get('/session_status')
      .set('Cookie', `__Host-session_token=${UNKNOWN}; __Host-session_token=${token}`)
      .expect(200);
    const plain = await request(t.http)
      .get('/session_status')
      .set('Cookie', `session_token=${token}; session_token=${UNKNOWN}`)
      .expect(401);
    expect(plain.body.reason).toBe('missing');
  });
});

describe('A malformed Authorization header (issue 17)', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await signup(t.http);
  });
  afterAll(() => t.close());

  const MALFORMED = ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a b', 'garbage', 'Token abc', ''];

  it('is answered 401 (reason invalid) on protected routes, even with a valid session cookie beside it', async () => {
    const { cookie } = await login(t.http, user);
    for (const auth of MALFORMED) {
      const res = await request(t.http).get('/active_sessions').set('Cookie', cookie).set('Authorization', auth);
      expect({ auth, status: res.status, reason: res.body.reason }).toEqual({ auth, status: 401, reason: 'invalid' });
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', authenticated: false });
    }
    // The cookie alone still works: nothing was ended.
    await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(200);
  });

  it('/session_status answers 401 reason invalid; a well-formed Bearer token is used whatever the cookie says', async () => {
    const { cookie, token } = await login(t.http, user);
    for (const auth of MALFORMED) {
      const res = await request(t.http).get('/session_status').set('Cookie', cookie).set('Authorization', auth);
      expect({ auth, status: res.status, reason: res.body.reason }).toEqual({ auth, status: 401, reason: 'invalid' });
    }
    await request(t.http)
      .get('/session_status')
      .set('Cookie', `session_token=${UNKNOWN}`)
      .set('Authorization', `bearer  ${token}`)
      .expect(200);
  });

  it('/logout treats it as no session: 200 and the cookie cleared, but the session it did not name goes on', async () => {
    const { cookie, body } = await login(t.http, user);
    const res = await request(t.http).post('/logout').set('Cookie', cookie).set('Authorization', 'Bearer').expect(200);
    expect(res.headers['clear-site-data']).toBe('"cookies"');
    const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
    expect(session.isActive).toBe(true);
  });

  it('does not stop a login (a public route), which ends no session', async () => {
    const { cookie, body } = await login(t.http, user);
    await request(t.http)
      .post('/login')
      .set('Cookie', cookie)
      .set('Authorization', 'Basic dXNlcjpwYXNz')
      .send({ email: user.email, password: user.password })
      .expect(200);
    const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id });
    expect(session.isActive).toBe(true);
  });
});
