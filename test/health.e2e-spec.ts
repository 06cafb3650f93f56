import request from 'supertest';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

describe('Health and an unreachable database', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Failed-login limits raised: this file's burst of logins is about the hashing queue, not the throttle.
    t = await createTestApp({
      BCRYPT_ROUNDS: '10',
      BCRYPT_MAX_PENDING: '0',
      LOGIN_LIMIT_ACCOUNT_ADDRESS: '100',
      LOGIN_LIMIT_ADDRESS: '100',
    });
  });
  afterAll(() => t.close());

  it('reports ok with the database up, without a session', async () => {
    const res = await request(t.http).get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up' });
  });

  it('answers 503 with Retry-After to logins beyond what the server can hash at once', async () => {
    const user = await signup(t.http);
    const responses = await Promise.all(
      Array.from({ length: 12 }, () =>
        request(t.http).post('/login').send({ email: user.email, password: user.password }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const busy = responses.find((r) => r.status === 503)!;
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  });

  it('answers 503 (never 500) when the database is gone, on /health and on guarded routes', async () => {
    const user = await signup(t.http);
    const { cookie } = await login(t.http, user);
    await t.dataSource.destroy();
    const health = await request(t.http).get('/health').expect(503);
    expect(health.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      status: 'error',
      database: 'down',
    });
    const guarded = await request(t.http).get('/active_sessions').set('Cookie', cookie).expect(503);
    expect(guarded.headers['retry-after']).toBeDefined();
    expect(JSON.stringify(guarded.body)).not.toMatch(/sqlite|typeorm|not open/i);
  });
});

describe('Liveness (GET /health/live)', () => {
  it('answers without a session or the database, even when the database is gone', async () => {
    const t = await createTestApp();
    try {
      await request(t.http).get('/health/live').expect(200, { status: 'ok' });
      await t.dataSource.destroy();
      await request(t.http).get('/health/live').expect(200, { status: 'ok' });
      await request(t.http).get('/health').expect(503);
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});
