import request from 'supertest';
import { User } from '../src/users/user.entity';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

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

  it('returns the latest 50 only', async () => {
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

  it('needs a session', async () => {
    await request(t.http).get('/login_activity').expect(401);
  });
});
