import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, sessionSetCookie, signup, type TestApp, type TestUser } from './utils/test-app';

const DAY = 86_400;
const REMEMBER = 7 * DAY;
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function loginWith(t: TestApp, user: TestUser, rememberMe?: boolean) {
  const body: Record<string, unknown> = { email: user.email, password: user.password };
  if (rememberMe !== undefined) body.remember_me = rememberMe;
  const res = await request(t.http).post('/login').send(body).expect(200);
  const setCookie = sessionSetCookie(res.headers['set-cookie']);
  const token = /^session_token=([^;]*)/.exec(setCookie)![1];
  return { res, setCookie, cookie: `session_token=${token}`, session: res.body.session };
}

const maxAge = (setCookie: string) => /;\s*Max-Age=(\d+)/i.exec(setCookie)?.[1];
const hasExpires = (setCookie: string) => /;\s*Expires=/i.test(setCookie);
const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

describe('POST /login remember_me', () => {
  describe('without an idle timeout', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ SESSION_TIMEOUT: String(DAY), REMEMBER_ME_TIMEOUT: String(REMEMBER) });
    });
    afterAll(() => t.close());

    it('omitted: as before, a persistent cookie (Max-Age = SESSION_TIMEOUT) and remember_me null', async () => {
      const { setCookie, session } = await loginWith(t, await signup(t.http));
      expect(maxAge(setCookie)).toBe(String(DAY));
      expect(hasExpires(setCookie)).toBe(true);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(session.remember_me).toBeNull();
      expect(seconds(session.login_time, session.expires_at)).toBe(DAY);
      const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: session.id });
      expect(row.rememberMe).toBeNull();
    });

    it('false: a browser-session cookie (no Max-Age, no Expires) and SESSION_TIMEOUT', async () => {
      const { setCookie, session } = await loginWith(t, await signup(t.http), false);
      expect(setCookie).toMatch(/^session_token=[A-Za-z0-9_-]{43};/);
      expect(maxAge(setCookie)).toBeUndefined();
      expect(hasExpires(setCookie)).toBe(false);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Lax/i);
      expect(session.remember_me).toBe(false);
      expect(seconds(session.login_time, session.expires_at)).toBe(DAY);
    });

    it('true: a persistent cookie and REMEMBER_ME_TIMEOUT as the absolute lifetime', async () => {
      const { setCookie, session, cookie } = await loginWith(t, await signup(t.http), true);
      expect(maxAge(setCookie)).toBe(String(REMEMBER));
      expect(hasExpires(setCookie)).toBe(true);
      expect(session.remember_me).toBe(true);
      expect(seconds(session.login_time, session.expires_at)).toBe(REMEMBER);

      // Past SESSION_TIMEOUT it still works; at REMEMBER_ME_TIMEOUT it has expired.
      t.clock.advance(2 * DAY);
      const status = await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
      expect(Math.abs(status.body.expires_in - (REMEMBER - 2 * DAY))).toBeLessThanOrEqual(1);
      expect(status.body.session.remember_me).toBe(true);
      t.clock.advance(REMEMBER - 2 * DAY);
      const gone = await request(t.http).get('/session_status').set('Cookie', cookie).expect(401);
      expect(gone.body.reason).toBe('expired');
    });

    it('refuses anything but a boolean in JSON', async () => {
      const user = await signup(t.http);
      const res = await request(t.http)
        .post('/login')
        .send({ email: user.email, password: user.password, remember_me: 'yes' })
        .expect(400);
      expect(JSON.stringify(res.body.message)).toContain('remember_me');
    });

    it('a browser form post passes remember_me through: "on" remembers, "false" does not', async () => {
      const user = await signup(t.http);
      const post = (remember: string) =>
        request(t.http)
          .post('/login')
          .set('Accept', BROWSER_ACCEPT)
          .type('form')
          .send(new URLSearchParams({ email: user.email, password: user.password, remember_me: remember }).toString())
          .expect(303);
      const on = sessionSetCookie((await post('on')).headers['set-cookie']);
      expect(maxAge(on)).toBe(String(REMEMBER));
      const off = sessionSetCookie((await post('false')).headers['set-cookie']);
      expect(maxAge(off)).toBeUndefined();
      const rows = await t.dataSource.getRepository(Session).find({ where: { userId: user.id }, order: { id: 'ASC' } });
      expect(rows.map((r) => r.rememberMe)).toEqual([true, false]);
    });

    it.each([true, false, undefined])(
      'a password change keeps remember_me (%s) and the absolute expiry, with the matching cookie',
      async (rememberMe) => {
        const user = await signup(t.http);
        const before = await loginWith(t, user, rememberMe);
        t.clock.advance(3600);
        const res = await request(t.http)
          .post('/change_password')
          .set('Cookie', before.cookie)
          .send({ current_password: user.password, new_password: 'another good password' })
          .expect(200);
        const setCookie = sessionSetCookie(res.headers['set-cookie']);
        const lifetime = rememberMe ? REMEMBER : DAY;
        if (rememberMe === false) expect(maxAge(setCookie)).toBeUndefined();
        else expect(Math.abs(Number(maxAge(setCookie)) - (lifetime - 3600))).toBeLessThanOrEqual(1);
        const token = /^session_token=([^;]*)/.exec(setCookie)![1];
        const status = await request(t.http).get('/session_status').set('Cookie', `session_token=${token}`).expect(200);
        expect(status.body.session.id).not.toBe(before.session.id);
        expect(status.body.session.remember_me).toBe(rememberMe ?? null);
        expect(status.body.session.expires_at).toBe(before.session.expires_at);
        expect(status.body.session.new_device).toBe(false);
      },
    );
  });

  describe('with SESSION_IDLE_TIMEOUT', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ SESSION_IDLE_TIMEOUT: '600', REMEMBER_ME_TIMEOUT: String(REMEMBER) });
    });
    afterAll(() => t.close());

    it('still ends a remember-me session left idle', async () => {
      const { cookie } = await loginWith(t, await signup(t.http), true);
      t.clock.advance(500);
      await request(t.http).get('/session_status').set('Cookie', cookie).expect(200);
      t.clock.advance(601);
      const res = await request(t.http).get('/session_status').set('Cookie', cookie).expect(401);
      expect(res.body.reason).toBe('idle_timeout');
    });
  });
});
