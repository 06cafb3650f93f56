import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, sessionSetCookie, signup, type TestApp, type TestUser } from './utils/test-app';

/** A session token as the server issues it: 32 random bytes, base64url (43 characters). */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The token a response set in its session cookie ('' when none). */
function cookieToken(res: request.Response): string {
  return /^session_token=([^;]*)/.exec(sessionSetCookie(res.headers['set-cookie']))?.[1] ?? '';
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,*/*;q=0.8';

describe('A token in the body for clients without a cookie jar (POST /login return_token)', () => {
  let t: TestApp;
  /** Every raw token the server handed out here, to look for in the logs at the end. */
  const tokens: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({}, { captureLogs: true });
  });
  afterAll(() => t.close());

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const loginJson = (user: TestUser, extra: Record<string, unknown> = {}) =>
    request(t.http)
      .post('/login')
      .send({ email: user.email, password: user.password, ...extra });
  const activeSessions = async (userId: number) =>
    t.dataSource.getRepository(Session).countBy({ userId, isActive: true });

  it('answers with the token when asked, the same as the cookie, which stays HttpOnly; no-store', async () => {
    const ada = await signup(t.http);
    const res = await loginJson(ada, { return_token: true }).expect(200);
    tokens.push(res.body.token);
    expect(res.body.token).toMatch(TOKEN);
    expect(res.body.token).toBe(cookieToken(res));
    expect(Object.keys(res.body).sort()).toEqual(['session', 'token', 'user']);
    expect(res.body.user.email).toBe(ada.email);
    expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/;\s*HttpOnly/i);
    expect(res.headers['cache-control']).toBe('no-store');
    // With remember_me too: both fields are honoured.
    const remembered = await loginJson(ada, { return_token: true, remember_me: true }).expect(200);
    tokens.push(remembered.body.token);
    expect(remembered.body.token).toBe(cookieToken(remembered));
    expect(remembered.body.session.remember_me).toBe(true);
  });

  it('the token works as a Bearer token: /session_status, /active_sessions, and /logout ends it', async () => {
    const ada = await signup(t.http);
    const res = await loginJson(ada, { return_token: true }).expect(200);
    const token: string = res.body.token;
    tokens.push(token);

    const status = await request(t.http).get('/session_status').set(bearer(token)).expect(200);
    expect(status.body.session.id).toBe(res.body.session.id);
    expect(status.body.user.id).toBe(ada.id);
    const list = await request(t.http).get('/active_sessions').set(bearer(token)).expect(200);
    const current = list.body.sessions.filter((s: { current: boolean }) => s.current);
    expect(current.map((s: { id: number }) => s.id)).toEqual([res.body.session.id]);

    await request(t.http).post('/logout').set(bearer(token)).expect(200);
    const after = await request(t.http).get('/session_status').set(bearer(token)).expect(401);
    expect(after.body).toMatchObject({ authenticated: false, reason: 'logged_out' });
    expect(await activeSessions(ada.id)).toBe(0);
  });

  it('gives no token without the flag, or with return_token false; the cookie as always', async () => {
    const ada = await signup(t.http);
    for (const extra of [{}, { return_token: false }, { return_token: false, remember_me: false }]) {
      const res = await loginJson(ada, extra).expect(200);
      expect({ extra, keys: Object.keys(res.body).sort() }).toEqual({ extra, keys: ['session', 'user'] });
      expect(cookieToken(res)).toMatch(TOKEN);
      tokens.push(cookieToken(res));
      expect(JSON.stringify(res.body)).not.toContain(cookieToken(res));
    }
  });

  it('refuses a return_token that is not a JSON boolean (400 naming it), before any session is made', async () => {
    const ada = await signup(t.http);
    for (const value of ['true', 'on', 1, 0, null, {}, [true], '']) {
      const res = await loginJson(ada, { return_token: value });
      expect({ value, status: res.status }).toEqual({ value, status: 400 });
      expect(res.body.message).toEqual([
        'return_token must be a JSON boolean (true or false); a form post cannot ask for the token',
      ]);
      expect(cookieToken(res)).toBe('');
    }
    expect(await activeSessions(ada.id)).toBe(0);
  });

  it('never gives the token to a form post: return_token in a form is refused (400), in JSON for an API client, on the page for a browser', async () => {
    const ada = await signup(t.http);
    const form = (fields: string, accept: string) =>
      request(t.http)
        .post('/login')
        .type('form')
        .set('Accept', accept)
        .send(`email=${encodeURIComponent(ada.email)}&password=${encodeURIComponent(ada.password)}${fields}`);

    for (const fields of ['&return_token=true', '&return_token=false', '&return_token=on', '&return_token=1']) {
      const api = await form(fields, 'application/json').expect(400);
      expect(api.body.message).toEqual([
        'return_token must be a JSON boolean (true or false); a form post cannot ask for the token',
      ]);
      expect(cookieToken(api)).toBe('');
      const page = await form(fields, BROWSER_ACCEPT).expect(400);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('return_token must be a JSON boolean');
      expect(cookieToken(page)).toBe('');
    }
    expect(await activeSessions(ada.id)).toBe(0);

    // The sign-in page's own posts, which never send it: the cookie only, as always.
    const api = await form('&remember_me=false&remember_me=true', 'application/json').expect(200);
    expect(Object.keys(api.body).sort()).toEqual(['session', 'user']);
    tokens.push(cookieToken(api));
    const page = await form('&remember_me=false', BROWSER_ACCEPT).expect(303);
    expect(page.text).toBe('');
    expect(cookieToken(page)).toMatch(TOKEN);
    tokens.push(cookieToken(page));
    expect(sessionSetCookie(page.headers['set-cookie'])).toMatch(/;\s*HttpOnly/i);
  });

  it('a login with return_token ends the session its Bearer header carried (no orphan), like any login', async () => {
    const ada = await signup(t.http);
    const first: string = (await loginJson(ada, { return_token: true }).expect(200)).body.token;
    const second = await loginJson(ada, { return_token: true }).set(bearer(first)).expect(200);
    tokens.push(first, second.body.token);
    expect(second.body.token).not.toBe(first);
    const old = await request(t.http).get('/session_status').set(bearer(first)).expect(401);
    expect(old.body.reason).toBe('logged_out');
    await request(t.http).get('/session_status').set(bearer(second.body.token)).expect(200);
  });

  describe('POST /change_password', () => {
    const newPassword = 'a brand new password';

    it('authenticated by Bearer: answers with the new token, which works; the old one is ended (revoked)', async () => {
      const ada = await signup(t.http);
      const old: string = (await loginJson(ada, { return_token: true }).expect(200)).body.token;
      const other: string = (await loginJson(ada, { return_token: true }).expect(200)).body.token;
      tokens.push(old, other);

      const res = await request(t.http)
        .post('/change_password')
        .set(bearer(old))
        .send({ current_password: ada.password, new_password: newPassword })
        .expect(200);
      expect(res.body).toEqual({ revoked: 1, token: expect.stringMatching(TOKEN) });
      tokens.push(res.body.token);
      expect(res.body.token).not.toBe(old);
      // The cookie carries the same new token, HttpOnly as always; the response is no-store.
      expect(cookieToken(res)).toBe(res.body.token);
      expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/;\s*HttpOnly/i);
      expect(res.headers['cache-control']).toBe('no-store');

      const status = await request(t.http).get('/session_status').set(bearer(res.body.token)).expect(200);
      expect(status.body.user.id).toBe(ada.id);
      for (const ended of [old, other]) {
        const gone = await request(t.http).get('/session_status').set(bearer(ended)).expect(401);
        expect(gone.body.reason).toBe('revoked');
      }
      expect(await activeSessions(ada.id)).toBe(1);
    });

    it('authenticated by the cookie: the new token in the cookie only, never in the body', async () => {
      const ada = await signup(t.http);
      const login = await loginJson(ada).expect(200);
      tokens.push(cookieToken(login));
      const res = await request(t.http)
        .post('/change_password')
        .set('Cookie', `session_token=${cookieToken(login)}`)
        .send({ current_password: ada.password, new_password: newPassword })
        .expect(200);
      expect(res.body).toEqual({ revoked: 0 });
      expect(cookieToken(res)).toMatch(TOKEN);
      tokens.push(cookieToken(res));
      await request(t.http)
        .get('/session_status')
        .set('Cookie', `session_token=${cookieToken(res)}`)
        .expect(200);
    });

    it('takes no return_token field (the header decides): 400, nothing changed', async () => {
      const ada = await signup(t.http);
      const token: string = (await loginJson(ada, { return_token: true }).expect(200)).body.token;
      tokens.push(token);
      const res = await request(t.http)
        .post('/change_password')
        .set(bearer(token))
        .send({ current_password: ada.password, new_password: newPassword, return_token: true })
        .expect(400);
      expect(res.body.message).toEqual(['property return_token should not exist']);
      await request(t.http).get('/session_status').set(bearer(token)).expect(200);
    });
  });

  it('never logs a token it handed out, nor a response body', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    const real = tokens.filter((token) => TOKEN.test(token));
    expect(real.length).toBeGreaterThanOrEqual(15);
    expect(t.logs.length).toBeGreaterThan(30);
    const everything = t.logs.join('');
    for (const token of real) expect({ token, found: everything.includes(token) }).toEqual({ token, found: false });
    for (const line of t.logs) {
      const parsed = JSON.parse(line) as { res?: Record<string, unknown> };
      expect(parsed.res?.body).toBeUndefined();
    }
    // Nothing of the body's field name either: no line carries a `token` key.
    expect(everything).not.toMatch(/"token"\s*:/);
  });
});
