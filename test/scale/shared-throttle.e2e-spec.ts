import { randomBytes } from 'node:crypto';
import { ServiceUnavailableException } from '@nestjs/common';
import fc from 'fast-check';
import Redis from 'ioredis';
import request from 'supertest';
import type { App } from 'supertest/types';
import { InMemoryLoginFailureStore, type WindowLimit } from '../../src/auth/login-throttle';
import { RedisLoginFailureStore } from '../../src/auth/redis-login-failure-store';
import { createScratchDatabase, TEST_POSTGRES_URL, type ScratchDatabase } from '../utils/postgres';
import { createTestApp, signup, type TestApp, type TestUser } from '../utils/test-app';

/** The Redis the instances share (the local one unless TEST_REDIS_URL names another). */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Nothing listens there: a Redis that is down. */
const DOWN_REDIS_URL = 'redis://127.0.0.1:1';

/** A key prefix of the spec's own, so its keys cannot meet anyone else's. */
const freshPrefix = () => `test:shared-throttle:${randomBytes(6).toString('hex')}:`;

/** Deletes every key under `prefix`. */
async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    return await redis.keys(`${prefix}*`);
  } finally {
    redis.disconnect();
  }
}

function attempt(http: App, email: string, password: string, ip: string) {
  return request(http).post('/login').set('X-Forwarded-For', ip).send({ email, password });
}

interface Pair {
  instances: [TestApp, TestApp];
  close(): Promise<void>;
}

/** Two instances of the app on one PostgreSQL database, as behind a load balancer. */
async function startPair(env: Record<string, string>, redisKeyPrefix?: string): Promise<Pair> {
  const db: ScratchDatabase = await createScratchDatabase(
    TEST_POSTGRES_URL!,
    process.env.TEST_PG_RUN!,
    process.env.TEST_PG_TEMPLATE,
  );
  const settings = {
    TRUST_PROXY: 'loopback',
    DATABASE_URL: db.url,
    // A copy of the run's migrated template.
    MIGRATIONS_RUN: 'false',
    LOGIN_LIMIT_ACCOUNT_ADDRESS: '4',
    AUTH_RATE_LIMIT: '10',
    ...env,
  };
  const a = await createTestApp(settings, { redisKeyPrefix });
  const b = await createTestApp(settings, { redisKeyPrefix });
  return {
    instances: [a, b],
    close: async () => {
      await a.close();
      await b.close();
      await db.drop();
    },
  };
}

/** Five failed logins for one account from one address, alternating between the instances. */
async function spreadFailures(pair: Pair, ip: string): Promise<{ user: TestUser; statuses: number[] }> {
  const user = await signup(pair.instances[0].http);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++)
    statuses.push((await attempt(pair.instances[i % 2].http, user.email, 'wrong password', ip)).status);
  return { user, statuses };
}

/** Twelve requests to /signup from one address, alternating between the instances. */
async function spreadRequests(pair: Pair, ip: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++)
    statuses.push(
      (
        await request(pair.instances[i % 2].http)
          .post('/signup')
          .set('X-Forwarded-For', ip)
          .send({})
      ).status,
    );
  return statuses;
}

describe('Shared throttling: two instances, one database, one Redis (REDIS_URL)', () => {
  const prefix = freshPrefix();
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({ REDIS_URL }, prefix);
  });
  afterAll(async () => {
    await pair.close();
    await deleteKeys(prefix);
  });

  it('counts failed logins for one account across both instances: the limit (4) holds however they are spread', async () => {
    const { user, statuses } = await spreadFailures(pair, '198.51.100.10');
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    // Both instances refuse, with the right password too: the failed-login limit, not the request rate.
    for (const t of pair.instances) {
      const blocked = await attempt(t.http, user.email, user.password, '198.51.100.10').expect(429);
      expect(blocked.body).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'Too many failed sign-in attempts; try again later',
      });
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(890);
    }
  });

  it('keeps the counts in sorted sets under the prefix, one per window, expiring with the window', async () => {
    const [a, b] = pair.instances;
    const user = await signup(a.http);
    const ip = '198.51.100.11';
    await attempt(a.http, user.email, 'wrong password', ip).expect(401);
    await attempt(b.http, user.email, 'wrong password', ip).expect(401);
    const redis = new Redis(REDIS_URL);
    try {
      for (const key of [`account-address:${user.email}|${ip}`, `address:${ip}`, `account:${user.email}`]) {
        expect(await redis.zcard(`${prefix}login:${key}`)).toBe(2);
        const ttl = await redis.pttl(`${prefix}login:${key}`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(900_000);
      }
      // A success on the other instance clears the account's count for that address, for both.
      await attempt(a.http, user.email, user.password, ip).expect(200);
      expect(await redis.exists(`${prefix}login:account-address:${user.email}|${ip}`)).toBe(0);
      expect(await redis.zcard(`${prefix}login:address:${ip}`)).toBe(2);
    } finally {
      redis.disconnect();
    }
  });

  it('counts the request rate (AUTH_RATE_LIMIT = 10) across both instances', async () => {
    const statuses = await spreadRequests(pair, '198.51.100.12');
    expect(statuses).toEqual([...Array(10).fill(400), 429, 429]);
    const limited = await request(pair.instances[1].http)
      .post('/login')
      .set('X-Forwarded-For', '198.51.100.12')
      .send({})
      .expect(429);
    expect(limited.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too many requests; try again later',
    });
    expect((await keysUnder(prefix)).filter((k) => k.includes('auth:198.51.100.12'))).not.toHaveLength(0);
  });

  it("counts a known device's failures under its own key across both instances (limit 4), exempt from the address's", async () => {
    const [a, b] = pair.instances;
    const user = await signup(a.http);
    const ip = '198.51.100.13';
    const first = await attempt(a.http, user.email, user.password, ip).expect(200);
    const device = ([] as string[])
      .concat(first.headers['set-cookie'])
      .find((l) => l.startsWith('device='))!
      .split(';')[0];
    // The account is locked for that address (4 failures, spread over both instances) ...
    for (let i = 0; i < 4; i++) await attempt(pair.instances[i % 2].http, user.email, 'wrong password', ip).expect(401);
    await attempt(b.http, user.email, user.password, ip).expect(429);
    // ... but not for the browser that signed in before, on either instance, up to its own 4.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await attempt(pair.instances[i % 2].http, user.email, 'wrong password', ip).set('Cookie', device)).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    // The fifth falls back to the address's limits, already full; the device's count is in Redis.
    expect(await keysUnder(`${prefix}login:device:`)).toHaveLength(1);
  });
});

describe('Without REDIS_URL (the control): each instance counts on its own', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({});
  });
  afterAll(() => pair.close());

  it('lets the same spread of failed logins through: 2 + 3 per instance stay under the limit of 4', async () => {
    expect((await spreadFailures(pair, '198.51.100.20')).statuses).toEqual([401, 401, 401, 401, 401]);
  });

  it('lets the same spread of requests through: 6 per instance stay under the rate limit of 10', async () => {
    expect(await spreadRequests(pair, '198.51.100.21')).toEqual(Array(12).fill(400));
  });
});

describe('With REDIS_URL and Redis down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback', REDIS_URL: DOWN_REDIS_URL });
  });
  afterAll(() => t.close());

  it('fails closed: /login and /signup answer 503 with the usual error body, at once', async () => {
    const user = { email: 'down@example.com', password: 'correct horse battery' };
    for (const send of [
      () => attempt(t.http, user.email, user.password, '198.51.100.30'),
      () => request(t.http).post('/signup').set('X-Forwarded-For', '198.51.100.30').send({}),
    ]) {
      const started = Date.now();
      const res = await send();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The service is temporarily unavailable; try again shortly',
      });
      expect(res.headers['retry-after']).toBe('5');
    }
  });

  it('leaves the routes that use no throttle alone', async () => {
    await request(t.http).get('/health/live').expect(200);
  });

  it('is not ready: /health answers 503 and says Redis is down, the database up', async () => {
    const res = await request(t.http).get('/health').expect(503);
    expect(res.body).toMatchObject({ statusCode: 503, status: 'error', database: 'up', redis: 'down' });
  });
});

describe('With REDIS_URL and Redis up', () => {
  it('is ready: /health says both are up', async () => {
    const t = await createTestApp({ REDIS_URL });
    try {
      const res = await request(t.http).get('/health').expect(200);
      expect(res.body).toEqual({ status: 'ok', database: 'up', redis: 'up' });
    } finally {
      await t.close();
    }
  });
});

describe('RedisLoginFailureStore against a real Redis', () => {
  const WINDOW = 60_000;
  let prefix: string;
  const clients: Redis[] = [];
  /** A store on a client of its own, as each instance has. */
  const store = (url = REDIS_URL) => {
    const client = new Redis(url, { keyPrefix: prefix, enableOfflineQueue: url !== DOWN_REDIS_URL });
    client.on('error', () => undefined);
    clients.push(client);
    return new RedisLoginFailureStore(client);
  };
  beforeEach(() => {
    prefix = freshPrefix();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await deleteKeys(prefix);
  });

  it('is atomic: of 60 concurrent reservations from two instances, exactly the limit get through', async () => {
    const [one, two] = [store(), store()];
    const limits = [
      { key: 'account-address:x|1', limit: 5 },
      { key: 'account:x', limit: 100 },
    ];
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? one : two).reserve(limits, WINDOW, now)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    for (const r of results) if (!r.allowed) expect(r.retryAfterMs).toBe(WINDOW);
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
    try {
      // Five entries in every key, all at the same millisecond: members are unique.
      expect(await redis.zcard('login:account-address:x|1')).toBe(5);
      expect(await redis.zcard('login:account:x')).toBe(5);
    } finally {
      redis.disconnect();
    }
  });

  it('slides the window: refuses until the oldest counted entry leaves it, and says how long', async () => {
    const s = store();
    const limits = [{ key: 'k', limit: 3 }];
    const t0 = 1_700_000_000_000;
    for (const at of [t0, t0 + 100, t0 + 200]) expect(await s.reserve(limits, 1000, at)).toEqual({ allowed: true, at });
    expect(await s.reserve(limits, 1000, t0 + 999)).toEqual({ allowed: false, retryAfterMs: 1 });
    expect(await s.reserve(limits, 1000, t0 + 1000)).toEqual({ allowed: true, at: t0 + 1000 });
    expect(await s.reserve(limits, 1000, t0 + 1001)).toEqual({ allowed: false, retryAfterMs: 99 });
  });

  it('refuses when any key is full, and then adds to none; release and reset take entries back', async () => {
    const s = store();
    const now = Date.now();
    await s.reserve([{ key: 'full', limit: 1 }], WINDOW, now);
    const limits = [
      { key: 'other', limit: 10 },
      { key: 'full', limit: 1 },
    ];
    expect((await s.reserve(limits, WINDOW, now)).allowed).toBe(false);
    expect(await s.reserve([{ key: 'other', limit: 1 }], WINDOW, now)).toEqual({ allowed: true, at: now });
    await s.release(['other', 'full'], now);
    expect((await s.reserve(limits, WINDOW, now + 1)).allowed).toBe(true);
    await s.reset('full');
    expect((await s.reserve([{ key: 'full', limit: 1 }], WINDOW, now + 2)).allowed).toBe(true);
  });

  it('behaves exactly like the in-memory store on any sequence of operations', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('reserve' as const),
        keys: fc.subarray(['a', 'b', 'c'], { minLength: 1 }),
        limit: fc.integer({ min: 1, max: 4 }),
      }),
      fc.record({ kind: fc.constant('release' as const), keys: fc.subarray(['a', 'b', 'c'], { minLength: 1 }) }),
      fc.record({
        kind: fc.constant('reset' as const),
        keys: fc.subarray(['a', 'b', 'c'], { minLength: 1, maxLength: 1 }),
      }),
    );
    const step = fc.tuple(op, fc.integer({ min: 0, max: 400 }));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        prefix = freshPrefix();
        const redisStore = store();
        const memory = new InMemoryLoginFailureStore();
        let now = 1_700_000_000_000;
        const taken: number[] = [];
        try {
          for (const [o, advance] of steps) {
            now += advance;
            if (o.kind === 'reserve') {
              const limits: WindowLimit[] = o.keys.map((key) => ({ key, limit: o.limit }));
              const expected = await memory.reserve(limits, 1000, now);
              expect(await redisStore.reserve(limits, 1000, now)).toEqual(expected);
              if (expected.allowed) taken.push(expected.at);
            } else if (o.kind === 'release') {
              const at = taken.pop() ?? now;
              await memory.release(o.keys, at);
              await redisStore.release(o.keys, at);
            } else {
              await memory.reset(o.keys[0]);
              await redisStore.reset(o.keys[0]);
            }
          }
        } finally {
          await deleteKeys(prefix);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('fails closed when Redis is down: 503, not a pass and not a hang', async () => {
    const s = store(DOWN_REDIS_URL);
    const started = Date.now();
    await expect(s.reserve([{ key: 'k', limit: 5 }], WINDOW, Date.now())).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    await expect(s.release(['k'], Date.now())).rejects.toBeInstanceOf(ServiceUnavailableException);
    await expect(s.reset('k')).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
