import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { createScratchDatabase, TEST_POSTGRES_URL } from './utils/postgres';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

describe('Sessions per user (MAX_SESSIONS_PER_USER)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ MAX_SESSIONS_PER_USER: '3' });
  });
  afterAll(() => t.close());

  const activeCount = (userId: number) => t.dataSource.getRepository(Session).countBy({ userId, isActive: true });

  it('ends the least recently active session when a login goes past the cap', async () => {
    const user = await signup(t.http);
    const a = await login(t.http, user, 'A');
    t.clock.advance(120);
    const b = await login(t.http, user, 'B');
    t.clock.advance(120);
    const c = await login(t.http, user, 'C');
    t.clock.advance(120);
    // A is used now, so B becomes the least recently active.
    await request(t.http).get('/active_sessions').set('Cookie', a.cookie).expect(200);
    t.clock.advance(120);
    const d = await login(t.http, user, 'D');

    expect(await activeCount(user.id)).toBe(3);
    const evicted = await request(t.http).get('/session_status').set('Cookie', b.cookie).expect(401);
    expect(evicted.body.reason).toBe('revoked');
    for (const kept of [a, c, d]) await request(t.http).get('/session_status').set('Cookie', kept.cookie).expect(200);
    const row = await t.dataSource.getRepository(Session).findOneByOrFail({ id: b.body.session.id });
    expect(row).toMatchObject({ isActive: false, endReason: 'revoked' });
  });

  it('never leaves more than the cap active under concurrent logins', async () => {
    const user = await signup(t.http);
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        request(t.http)
          .post('/login')
          .set('User-Agent', `device ${i}`)
          .send({ email: user.email, password: user.password }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(await activeCount(user.id)).toBe(3);
    const evicted = await t.dataSource.getRepository(Session).findBy({ userId: user.id, isActive: false });
    expect(evicted.map((s) => s.endReason)).toEqual(Array(5).fill('revoked'));
  });

  it("does not count other users' sessions", async () => {
    const one = await signup(t.http);
    const two = await signup(t.http);
    for (let i = 0; i < 3; i++) await login(t.http, one);
    const first = await login(t.http, two);
    await login(t.http, two);
    await request(t.http).get('/session_status').set('Cookie', first.cookie).expect(200);
    expect(await activeCount(one.id)).toBe(3);
    expect(await activeCount(two.id)).toBe(2);
  });

  // The cap under real concurrency: PostgreSQL runs the login transactions side by side.
  const adminUrl = TEST_POSTGRES_URL;
  if (adminUrl) {
    it('never leaves more than the cap active under concurrent logins, on PostgreSQL', async () => {
      const db = await createScratchDatabase(adminUrl, 'session_cap');
      // The failed-login limit per account and address (5) counts attempts in flight, so eight at
      // once could meet it while the hashes queue; this test is about the cap, not the throttle.
      const pg = await createTestApp({
        DATABASE_URL: db.url,
        MAX_SESSIONS_PER_USER: '3',
        LOGIN_LIMIT_ACCOUNT_ADDRESS: '100',
      });
      try {
        const user = await signup(pg.http);
        for (let round = 0; round < 3; round++) {
          const statuses = await Promise.all(
            Array.from({ length: 8 }, () =>
              request(pg.http)
                .post('/login')
                .send({ email: user.email, password: user.password })
                .then((r) => r.status),
            ),
          );
          expect(statuses).toEqual(Array(8).fill(200));
          expect(await pg.dataSource.getRepository(Session).countBy({ userId: user.id, isActive: true })).toBe(3);
        }
      } finally {
        await pg.close();
        await db.drop();
      }
    });
  }
});
