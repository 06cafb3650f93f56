import request from 'supertest';
import { LoginAttempt } from '../src/auth/login-attempt.entity';
import { CleanupService } from '../src/cleanup/cleanup.service';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, login, signup, type TestApp, type TestUser } from './utils/test-app';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const DAY = 86_400;

function loginFrom(t: TestApp, user: TestUser, ip: string, userAgent = CHROME_WINDOWS) {
  return request(t.http)
    .post('/login')
    .set('X-Forwarded-For', ip)
    .set('User-Agent', userAgent)
    .send({ email: user.email, password: user.password })
    .expect(200);
}

describe('Devices, places and new sign-ins', () => {
  describe('with GEOIP=true', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ GEOIP: 'true', TRUST_PROXY: 'loopback' }, { captureLogs: true });
    });
    afterAll(() => t.close());

    it('records the device and the country of a public address (IPv4 and IPv6)', async () => {
      const user = await signup(t.http);
      const v4 = await loginFrom(t, user, '8.8.8.8');
      expect(v4.body.session).toMatchObject({
        ip_address: '8.8.8.8',
        device: { browser: 'Chrome', os: 'Windows', type: 'desktop' },
        location: { country: 'US' },
      });
      const v6 = await loginFrom(t, user, '2001:4860:4860::8888', SAFARI_IPHONE);
      expect(v6.body.session).toMatchObject({
        device: { browser: 'Mobile Safari', os: 'iOS', type: 'mobile' },
        location: { country: 'US' },
      });
      const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: v4.body.session.id });
      expect(row).toMatchObject({ deviceBrowser: 'Chrome', deviceOs: 'Windows', deviceType: 'desktop', country: 'US' });
      const attempt = await t.dataSource
        .getRepository(LoginAttempt)
        .findOneByOrFail({ userId: user.id, success: true });
      expect(attempt.country).toBe('US');
    });

    it.each(['10.0.0.1', '192.168.1.1', '127.0.0.1', '::1', 'fc00::1', 'fe80::1', '169.254.1.1', '::ffff:10.0.0.1'])(
      'gives no location for %s',
      async (ip) => {
        const res = await loginFrom(t, await signup(t.http), ip);
        expect(res.body.session.location).toBeNull();
      },
    );

    it('an IPv4-mapped IPv6 public address is looked up as IPv4', async () => {
      const res = await loginFrom(t, await signup(t.http), '::ffff:8.8.8.8');
      expect(res.body.session.location).toEqual({ country: 'US' });
    });

    it('records the country of a failed attempt too', async () => {
      const user = await signup(t.http);
      await request(t.http)
        .post('/login')
        .set('X-Forwarded-For', '8.8.4.4')
        .send({ email: user.email, password: 'wrong password' })
        .expect(401);
      const attempt = await t.dataSource.getRepository(LoginAttempt).findOneByOrFail({ userId: user.id });
      expect(attempt).toMatchObject({ success: false, country: 'US', newDevice: false });
    });

    it('flags a sign-in from a new browser or country, never the first one, on the session, /login_activity and the logs', async () => {
      const user = await signup(t.http);
      const first = await loginFrom(t, user, '8.8.8.8');
      expect(first.body.session.new_device).toBe(false);
      const again = await loginFrom(t, user, '8.8.4.4'); // same browser, OS and country
      expect(again.body.session.new_device).toBe(false);
      const firefox = await loginFrom(t, user, '8.8.8.8', FIREFOX_LINUX);
      expect(firefox.body.session.new_device).toBe(true);
      const firefoxAgain = await loginFrom(t, user, '8.8.8.8', FIREFOX_LINUX);
      expect(firefoxAgain.body.session.new_device).toBe(false);
      const abroad = await loginFrom(t, user, '1.1.1.1'); // Chrome on Windows, from AU
      expect(abroad.body.session.location).toEqual({ country: 'AU' });
      expect(abroad.body.session.new_device).toBe(true);
      const nowhere = await loginFrom(t, user, '10.0.0.1'); // no country is a place of its own
      expect(nowhere.body.session.new_device).toBe(true);
      const nowhereAgain = await loginFrom(t, user, '192.168.1.1');
      expect(nowhereAgain.body.session.new_device).toBe(false);

      // An ended session still counts as "before".
      await request(t.http)
        .post('/logout')
        .set('Authorization', `Bearer ${await tokenOf(t, user, '1.0.0.1')}`);
      const stored = await t.dataSource.getRepository(Session).findOneByOrFail({ id: firefox.body.session.id });
      expect(stored.newDevice).toBe(true);

      const { cookie } = await login(t.http, user);
      const activity = await request(t.http).get('/login_activity').set('Cookie', cookie).expect(200);
      const flags = (activity.body.attempts as Array<{ new_device: boolean; country: string | null }>)
        .slice(1)
        .reverse()
        .map((a) => [a.new_device, a.country]);
      expect(flags).toEqual([
        [false, 'US'],
        [false, 'US'],
        [true, 'US'],
        [false, 'US'],
        [true, 'AU'],
        [true, null],
        [false, null],
        [true, 'AU'], // tokenOf: curl-like client from 1.0.0.1, no browser or OS
      ]);

      const events = t.logs
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((l) => l.event === 'new_device_login' && l.user_id === user.id);
      // The four above, and the last login (an unknown browser from no country: new as well).
      expect(events).toHaveLength(5);
      expect(events[0]).toMatchObject({
        level: 'info',
        user_id: user.id,
        session_id: firefox.body.session.id,
        browser: 'Firefox',
        os: 'Linux',
        country: 'US',
      });
      expect(events[1]).toMatchObject({ session_id: abroad.body.session.id, browser: 'Chrome', country: 'AU' });
      // Ids and the device only: no email, no address.
      expect(JSON.stringify(events)).not.toContain(user.email);
      expect(JSON.stringify(events)).not.toContain('1.1.1.1');
    });
  });

  describe('with GEOIP off (the default)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ TRUST_PROXY: 'loopback' });
    });
    afterAll(() => t.close());

    it('records the device but no location', async () => {
      const res = await loginFrom(t, await signup(t.http), '8.8.8.8', FIREFOX_LINUX);
      expect(res.body.session.device).toEqual({ browser: 'Firefox', os: 'Linux', type: 'desktop' });
      expect(res.body.session.location).toBeNull();
    });

    it('a client without a user agent has an unknown device', async () => {
      const user = await signup(t.http);
      const res = await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(200);
      expect(res.body.session.device).toEqual({ browser: null, os: null, type: null });
    });
  });

  describe('IP_RETENTION_DAYS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        GEOIP: 'true',
        TRUST_PROXY: 'loopback',
        IP_RETENTION_DAYS: '7',
        RETENTION_DAYS: '30',
        CLEANUP_INTERVAL_MINUTES: '0',
      });
    });
    afterAll(() => t.close());

    it('blanks the address of ended sessions and attempts older than N days, keeping the country', async () => {
      const user = await signup(t.http);
      const ended = await loginFrom(t, user, '8.8.8.8');
      const active = await loginFrom(t, user, '8.8.4.4');
      const endedCookie = /session_token=[^;]*/.exec(ended.headers['set-cookie'][0])![0];
      // Ended now with the token of `ended` (the login above ended nothing: separate clients).
      await request(t.http).post('/logout').set('Cookie', endedCookie).expect(200);

      t.clock.advance(7 * DAY - 60);
      // `active` is past SESSION_TIMEOUT (1 day): ended now (expired), so its address stays for 7 more days.
      expect(await t.app.get(CleanupService).run()).toMatchObject({
        sessions_expired: 1,
        sessions_ip_blanked: 0,
        login_attempts_ip_blanked: 0,
      });

      t.clock.advance(120);
      const report = await t.app.get(CleanupService).run();
      expect(report).toEqual({
        sessions_expired: 0,
        sessions_idle_timeout: 0,
        sessions_deleted: 0,
        login_attempts_deleted: 0,
        outbox_deleted: 0,
        email_tokens_deleted: 0,
        webauthn_challenges_deleted: 0,
        sessions_ip_blanked: 1,
        login_attempts_ip_blanked: 2,
      });
      const sessions = t.dataSource.getRepository(Session);
      expect(await sessions.findOneByOrFail({ id: ended.body.session.id })).toMatchObject({
        ipAddress: null,
        country: 'US',
      });
      expect(await sessions.findOneByOrFail({ id: active.body.session.id })).toMatchObject({
        ipAddress: '8.8.4.4',
        country: 'US',
      });
      const attempts = await t.dataSource.getRepository(LoginAttempt).findBy({ userId: user.id });
      expect(attempts.map((a) => [a.ipAddress, a.country])).toEqual([
        [null, 'US'],
        [null, 'US'],
      ]);
      // Nothing left to do: a second pass blanks nothing.
      expect(await t.app.get(CleanupService).run()).toMatchObject({
        sessions_ip_blanked: 0,
        login_attempts_ip_blanked: 0,
      });
    });
  });
});

/** Logs in with no user agent from `ip` and returns the bearer token. */
async function tokenOf(t: TestApp, user: TestUser, ip: string): Promise<string> {
  const res = await request(t.http)
    .post('/login')
    .set('X-Forwarded-For', ip)
    .send({ email: user.email, password: user.password })
    .expect(200);
  return /session_token=([^;]*)/.exec(res.headers['set-cookie'][0])![1];
}
