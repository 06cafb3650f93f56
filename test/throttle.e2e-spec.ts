import request from 'supertest';
import type { App } from 'supertest/types';
import { LoginAttempt } from '../src/auth/login-attempt.entity';
import { createTestApp, signup, type TestApp } from './utils/test-app';

/** A login from a given client address (the app trusts X-Forwarded-For from loopback). */
function attempt(http: App, email: string, password: string, ip: string) {
  return request(http).post('/login').set('X-Forwarded-For', ip).send({ email, password });
}

let ipCounter = 0;
const freshIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;
let netCounter = 0;
const freshNet = () => `10.${Math.floor(netCounter / 250)}.${netCounter++ % 250}`;

describe('Login throttling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback' });
  });
  afterAll(() => t.close());

  it('allows 5 failures per account from one address, then answers 429 with Retry-After even to the right password', async () => {
    const user = await signup(t.http);
    const ip = freshIp();
    for (let i = 0; i < 5; i++) await attempt(t.http, user.email, 'wrong password', ip).expect(401);
    const blocked = await attempt(t.http, user.email, user.password, ip).expect(429);
    expect(blocked.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(890);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(blocked.headers['set-cookie']).toBeUndefined();
    // The same account from another address is not blocked by this limit.
    await attempt(t.http, user.email, user.password, freshIp()).expect(200);
  });

  it('counts unknown emails exactly like known ones, so a 429 reveals nothing', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) {
      const res = await attempt(t.http, 'nobody-here@example.com', 'wrong password', ip).expect(401);
      expect(res.body.message).toBe('Invalid email or password');
    }
    const blocked = await attempt(t.http, 'nobody-here@example.com', 'wrong password', ip).expect(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(890);
  });

  it('allows 20 failures per address across accounts', async () => {
    const net = freshNet();
    const ip = `${net}.1`;
    for (let i = 0; i < 20; i++)
      await attempt(t.http, `victim${i}-${net}@example.com`, 'wrong password', ip).expect(401);
    const user = await signup(t.http);
    await attempt(t.http, user.email, user.password, ip).expect(429);
    await attempt(t.http, user.email, user.password, `${net}.2`).expect(200);
  });

  it('allows 100 failures per account from all addresses', async () => {
    const user = await signup(t.http);
    const net = freshNet();
    for (let i = 0; i < 100; i++) await attempt(t.http, user.email, 'wrong password', `${net}.${i + 1}`).expect(401);
    await attempt(t.http, user.email, user.password, `${net}.200`).expect(429);
  });

  it("clears the account's count for that address on a success", async () => {
    const user = await signup(t.http);
    const ip = freshIp();
    for (let i = 0; i < 4; i++) await attempt(t.http, user.email, 'wrong password', ip).expect(401);
    await attempt(t.http, user.email, user.password, ip).expect(200);
    for (let i = 0; i < 4; i++) await attempt(t.http, user.email, 'wrong password', ip).expect(401);
    await attempt(t.http, user.email, user.password, ip).expect(200);
  });

  it('does not count 400s', async () => {
    const user = await signup(t.http);
    const ip = freshIp();
    for (let i = 0; i < 10; i++)
      await request(t.http).post('/login').set('X-Forwarded-For', ip).send({ email: user.email }).expect(400);
    await attempt(t.http, user.email, user.password, ip).expect(200);
  });

  it('lets the window slide: the limit lifts 15 minutes after the failures', async () => {
    const user = await signup(t.http);
    const ip = freshIp();
    for (let i = 0; i < 5; i++) await attempt(t.http, user.email, 'wrong password', ip).expect(401);
    t.clock.advance(600);
    const later = await attempt(t.http, user.email, user.password, ip).expect(429);
    expect(Number(later.headers['retry-after'])).toBeLessThanOrEqual(300);
    t.clock.advance(301);
    await attempt(t.http, user.email, user.password, ip).expect(200);
  });

  it('holds under a burst of concurrent guesses: no more than 5 are checked', async () => {
    const user = await signup(t.http);
    const ip = freshIp();
    const statuses = (
      await Promise.all(Array.from({ length: 15 }, () => attempt(t.http, user.email, 'wrong password', ip)))
    ).map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('records every attempt, throttled ones included, without the password', async () => {
    const user = await signup(t.http, { password: 'recorded password 1' });
    const ip = freshIp();
    for (let i = 0; i < 5; i++) await attempt(t.http, user.email, 'wrong password', ip).expect(401);
    await attempt(t.http, user.email, user.password, ip).expect(429);
    const rows = await t.dataSource
      .getRepository(LoginAttempt)
      .find({ where: { userId: user.id }, order: { id: 'ASC' } });
    expect(rows.map((r) => r.reason)).toEqual([
      'bad_password',
      'bad_password',
      'bad_password',
      'bad_password',
      'bad_password',
      'throttled',
    ]);
    expect(rows.every((r) => r.ipAddress === ip && r.success === false)).toBe(true);
    const dump = JSON.stringify(await t.dataSource.query('SELECT * FROM login_attempts'));
    expect(dump).not.toContain('wrong password');
    expect(dump).not.toContain('recorded password 1');
  });
});

describe('Login throttling, configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      TRUST_PROXY: 'loopback',
      LOGIN_LIMIT_ACCOUNT_ADDRESS: '2',
      LOGIN_LIMIT_WINDOW: '60',
      AUTH_RATE_LIMIT: '8',
    });
  });
  afterAll(() => t.close());

  it('takes its limits and window from the environment', async () => {
    const user = await signup(t.http);
    await attempt(t.http, user.email, 'wrong password', '203.0.113.1').expect(401);
    await attempt(t.http, user.email, 'wrong password', '203.0.113.1').expect(401);
    const blocked = await attempt(t.http, user.email, user.password, '203.0.113.1').expect(429);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('limits the request rate on /login and /signup per address (AUTH_RATE_LIMIT a minute)', async () => {
    const ip = '203.0.113.50';
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await request(t.http).post('/signup').set('X-Forwarded-For', ip).send({})).status);
    }
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(400));
    expect(statuses.slice(8)).toEqual([429, 429]);
    const limited = await request(t.http).post('/login').set('X-Forwarded-For', ip).send({}).expect(429);
    expect(limited.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too many requests; try again later',
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await request(t.http).post('/signup').set('X-Forwarded-For', '203.0.113.51').send({}).expect(400);
  });
});

describe('Login throttling and the hashing queue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      TRUST_PROXY: 'loopback',
      LOGIN_LIMIT_ACCOUNT_ADDRESS: '3',
      BCRYPT_ROUNDS: '10',
      BCRYPT_MAX_PENDING: '0',
    });
  });
  afterAll(() => t.close());

  it('does not count a login turned away with 503 (its password was never checked) as a failure', async () => {
    const user = await signup(t.http);
    const ip = '203.0.113.77';
    const burst = (
      await Promise.all(Array.from({ length: 12 }, () => attempt(t.http, user.email, 'wrong password', ip)))
    ).map((r) => r.status);
    expect(burst).toContain(503);
    let unauthorized = burst.filter((s) => s === 401).length;
    for (let i = 0; i < 5; i++) {
      const status = (await attempt(t.http, user.email, 'wrong password', ip)).status;
      if (status === 429) break;
      expect(status).toBe(401);
      unauthorized++;
    }
    // Exactly the limit of checked failures, however many were turned away.
    expect(unauthorized).toBe(3);
  });
});
