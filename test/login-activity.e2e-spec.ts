import request from 'supertest';
import { User } from '../src/users/user.entity';
import { createTestApp, login, sessionSetCookie, signup, type TestApp } from './utils/test-app';

describe('GET /login_activity', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback', LOGIN_LIMIT_ACCOUNT_ADDRESS: '3' });
  });
  afterAll(() => t.close());

  it("lists the caller's sign-in attempts newest first: ok, bad_password, throttled and account_disabled", async () => {
    const user = await signup(t.http);
    const other = await signup(t.http);
    const attempt = (email: string, password: string, ip: string, ua = 'jest') =>
      request(t.http).post('/login').set('X-Forwarded-For', ip).set('User-Agent', ua).send({ email, password });

    await attempt(user.email, user.password, '203.0.113.1', 'First browser').expect(200);
    await attempt(user.email, 'wrong password', '203.0.113.2').expect(401);
    for (let i = 0; i < 2; i++) await attempt(user.email, 'wrong password', '203.0.113.3').expect(401);
    await attempt(user.email, 'wrong password', '203.0.113.3').expect(401);
    await attempt(user.email, user.password, '203.0.113.3').expect(429);
    await attempt(other.email, 'wrong password', '203.0.113.9').expect(401); // someone else's account
    await t.dataSource.getRepository(User).update({ id: user.id }, { isActive: false });
    await attempt(user.email, user.password, '203.0.113.4').expect(403);
    await t.dataSource.getRepository(User).update({ id: user.id }, { isActive: true });
    const { cookie } = await login(t.http, user, 'Reader');

    const res = await request(t.http).get('/login_activity').set('Cookie', cookie).expect(200);
    const attempts = res.body.attempts as Array<Record<string, unknown>>;
    expect(attempts.map((a) => a.reason)).toEqual([
      'ok',
      'account_disabled',
      'throttled',
      'bad_password',
      'bad_password',
      'bad_password',
      'bad_password',
      'ok',
    ]);
    expect(attempts[7]).toEqual({
      time: expect.any(String),
      ip_address: '203.0.113.1',
      user_agent: 'First browser',
      success: true,
      reason: 'ok',
      // GEOIP is off here, and an account's first sign-in is never flagged.
      country: null,
      new_device: false,
    });
    expect(attempts[2]).toMatchObject({ ip_address: '203.0.113.3', success: false });
    expect(Object.keys(attempts[0]).sort()).toEqual([
      'country',
      'ip_address',
      'new_device',
      'reason',
      'success',
      'time',
      'user_agent',
    ]);
    expect(JSON.stringify(res.body)).not.toContain('wrong password');
  });

  it('returns the latest 50 only when all of them succeeded', async () => {
    const user = await signup(t.http);
    for (let i = 0; i < 55; i++)
      await request(t.http)
        .post('/login')
        .set('X-Forwarded-For', `198.51.100.${i + 1}`)
        .send({ email: user.email, password: user.password })
        .expect(200);
    const { cookie } = await login(t.http, user);
    const res = await request(t.http).get('/login_activity').set('Cookie', cookie).expect(200);
    expect(res.body.attempts).toHaveLength(50);
    expect(res.body.attempts[0].ip_address).toBe('127.0.0.1');
  });

  describe('successful sign-ins stay in view whatever failures follow', () => {
    /** One login per address (TRUST_PROXY), so no per-address limit is reached; the last one's cookie. */
    async function logins(email: string, password: string, count: number, net: string, status: number) {
      let cookie = '';
      for (let i = 0; i < count; i++) {
        const res = await request(t.http)
          .post('/login')
          .set('X-Forwarded-For', `${net}.${i + 1}`)
          .send({ email, password })
          .expect(status);
        if (status === 200)
          cookie = `session_token=${/^session_token=([^;]*)/.exec(sessionSetCookie(res.headers['set-cookie']))![1]}`;
      }
      return cookie;
    }

    async function activity(cookie: string): Promise<Array<Record<string, unknown>>> {
      return (await request(t.http).get('/login_activity').set('Cookie', cookie).expect(200)).body.attempts;
    }

    it('lists a sign-in followed by 60 failures', async () => {
      const user = await signup(t.http);
      // The owner reads from a session started before, so the listing adds no sign-in of its own.
      const owner = await logins(user.email, user.password, 1, '192.0.2', 200);
      const thief = await logins(user.email, user.password, 1, '198.18.0', 200);
      expect(thief).not.toBe(owner);
      await logins(user.email, 'wrong password', 60, '198.18.1', 401);

      const attempts = await activity(owner);
      expect(attempts).toHaveLength(52);
      expect(attempts.slice(0, 50).every((a) => a.reason === 'bad_password')).toBe(true);
      expect(attempts.slice(50)).toEqual([
        expect.objectContaining({ ip_address: '198.18.0.1', success: true, reason: 'ok' }),
        expect.objectContaining({ ip_address: '192.0.2.1', success: true, reason: 'ok' }),
      ]);
    });

    it('lists the latest 20 of 25 sign-ins followed by 60 failures, newest first, each once', async () => {
      const user = await signup(t.http);
      const cookie = await logins(user.email, user.password, 25, '198.18.2', 200);
      await logins(user.email, 'wrong password', 60, '198.18.3', 401);

      const attempts = await activity(cookie);
      expect(attempts).toHaveLength(70);
      // The latest 50 failures (the 11th to the 60th), then the latest 20 sign-ins (the 6th to the 25th).
      expect(attempts.map((a) => a.ip_address)).toEqual([
        ...Array.from({ length: 50 }, (_, i) => `198.18.3.${60 - i}`),
        ...Array.from({ length: 20 }, (_, i) => `198.18.2.${25 - i}`),
      ]);
      expect(attempts.filter((a) => a.success)).toHaveLength(20);
      const times = attempts.map((a) => Date.parse(a.time as string));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('lists each attempt once when the latest 50 hold the successes already', async () => {
      const user = await signup(t.http);
      await logins(user.email, 'wrong password', 5, '198.18.4', 401);
      const cookie = await logins(user.email, user.password, 3, '198.18.5', 200);
      const attempts = await activity(cookie);
      expect(attempts.map((a) => a.ip_address)).toEqual([
        '198.18.5.3',
        '198.18.5.2',
        '198.18.5.1',
        '198.18.4.5',
        '198.18.4.4',
        '198.18.4.3',
        '198.18.4.2',
        '198.18.4.1',
      ]);
    });
  });

  it('needs a session', async () => {
    await request(t.http).get('/login_activity').expect(401);
  });
});
