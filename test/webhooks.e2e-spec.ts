import request from 'supertest';
import { AuthService } from '../src/auth/auth.service';
import { LoginAttempt } from '../src/auth/login-attempt.entity';
import { CleanupService } from '../src/cleanup/cleanup.service';
import { OutboxEntry } from '../src/mail/outbox.entity';
import { Outbox, retryDelaySeconds } from '../src/mail/outbox.service';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { ON_POSTGRES } from './utils/postgres';
import { createTestApp, signup, type TestApp, type TestUser } from './utils/test-app';
import {
  bySession,
  drain,
  expectOneEventPerTransition,
  Receiver,
  SECRET,
  sharedDatabase,
} from './utils/webhook-receiver';

/** A seeded generator, so a failing mix can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Session events as webhooks', () => {
  const receiver = new Receiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.rejected.length = 0;
    receiver.answer = 200;
  });

  const env = () => ({
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: SECRET,
    SESSION_TIMEOUT: '3600',
    SESSION_IDLE_TIMEOUT: '900',
  });

  describe('a random mix of lifecycle operations', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(env());
    });
    afterAll(() => t.close());

    it('gives exactly one signed event per transition, each session created before it ended', async () => {
      const next = random(22);
      const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
      const users: TestUser[] = [];
      for (let i = 0; i < 6; i++) users.push(await signup(t.http));
      // Each user's live tokens (some already ended on the server: the mix does not track which).
      const tokens = new Map<number, string[]>(users.map((u) => [u.id, []]));
      const counts = { password_changed: 0, disabled: 0 };
      const agents = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0', 'Mozilla/5.0 (Macintosh) Safari/605.1.15'];
      const auth = t.app.get(AuthService);
      const operations = 1500;
      for (let op = 0; op < operations; op++) {
        const user = pick(users);
        const mine = tokens.get(user.id)!;
        const token = mine.length > 0 ? pick(mine) : null;
        const roll = next();
        if (roll < 0.3 || !token) {
          const res = await request(t.http)
            .post('/login')
            .set('User-Agent', pick(agents))
            .send({ email: user.email, password: next() < 0.1 ? 'wrong password!' : user.password });
          const cookie = /session_token=([^;]+)/.exec(String(res.headers['set-cookie'] ?? ''))?.[1];
          if (res.status === 200 && cookie) mine.push(cookie);
        } else if (roll < 0.45) {
          await request(t.http).post('/logout').set('Cookie', `session_token=${token}`);
        } else if (roll < 0.55) {
          // The guard ends a session it finds expired or idle.
          await request(t.http).get('/session_status').set('Cookie', `session_token=${token}`);
        } else if (roll < 0.62) {
          const list = await request(t.http).get('/active_sessions').set('Cookie', `session_token=${token}`);
          const other = (list.body.sessions as { id: number; is_current: boolean }[] | undefined)?.find(
            (s) => !s.is_current,
          );
          if (other)
            await request(t.http).delete(`/active_sessions/${other.id}`).set('Cookie', `session_token=${token}`);
        } else if (roll < 0.67) {
          const newPassword = `new password ${op} long enough`;
          const res = await request(t.http)
            .post('/change_password')
            .set('Cookie', `session_token=${token}`)
            .send({ current_password: user.password, new_password: newPassword });
          if (res.status === 200) {
            counts.password_changed++;
            user.password = newPassword;
            const cookie = /session_token=([^;]+)/.exec(String(res.headers['set-cookie'] ?? ''))?.[1];
            if (cookie) mine.push(cookie);
          }
        } else if (roll < 0.72) {
          await auth.endAllSessions(user.id, 'revoked_by_admin');
        } else if (roll < 0.74) {
          await auth.deactivateAccount(user.id);
          counts.disabled++;
          // Enabled again so the mix goes on with this user (a re-enable is no event).
          await t.dataSource.getRepository(User).update(user.id, { isActive: true });
        } else if (roll < 0.8) {
          await t.app.get(CleanupService).run();
        } else {
          t.clock.advance(Math.floor(next() * 1200));
        }
      }
      // A burst of wrong passwords on one account, until the throttle answers.
      for (let i = 0; i < 30; i++)
        await request(t.http)
          .post('/login')
          .send({ email: users[0].email, password: `wrong password ${i}` });
      await t.app.get(CleanupService).run();
      await drain(t);

      expect(receiver.rejected).toEqual([]);
      const events = receiver.events();
      const sessions = await expectOneEventPerTransition(t, events);
      expect(sessions).toBeGreaterThan(100);
      const ofType = (type: string) => events.filter((e) => e.type === type);
      const reasons = new Set(ofType('session.ended').map((e) => e.data.reason));
      for (const reason of ['logged_out', 'revoked', 'revoked_by_admin', 'expired', 'idle_timeout', 'account_disabled'])
        expect(reasons).toContain(reason);
      expect(ofType('user.password_changed')).toHaveLength(counts.password_changed);
      expect(ofType('user.disabled')).toHaveLength(counts.disabled);
      const throttled = await t.dataSource.getRepository(LoginAttempt).countBy({ reason: 'throttled' });
      expect(throttled).toBeGreaterThan(0);
      expect(ofType('login.failed_throttled')).toHaveLength(throttled);
      const flagged = await t.dataSource.getRepository(Session).countBy({ newDevice: true });
      expect(ofType('login.new_device')).toHaveLength(flagged);
      // Created before ended, in the order received.
      for (const list of bySession(receiver.received).values()) expect(list[0].type).toBe('session.created');
      // Ids only: no token, hash or password in any body.
      for (const event of events) {
        expect(event.id).toMatch(/^msg_[0-9a-f-]{36}$/);
        expect(event.body).not.toMatch(/token|hash|password"|ip_address/i);
      }
    }, 180_000);
  });

  it('loses nothing while the endpoint refuses connections or answers 500, retrying each event with its webhook-id', async () => {
    const t = await createTestApp(env());
    try {
      const user = await signup(t.http);
      await receiver.stop();
      const login = await request(t.http).post('/login').send({ email: user.email, password: user.password });
      expect(login.status).toBe(200);
      const cookie = `session_token=${/session_token=([^;]+)/.exec(String(login.headers['set-cookie']))![1]}`;
      await request(t.http).post('/logout').set('Cookie', cookie).expect(200);
      const outbox = t.app.get(Outbox);
      outbox.kick();
      await outbox.idle();
      const rows = () =>
        t.dataSource.getRepository(OutboxEntry).find({ where: { kind: 'webhook' }, order: { id: 'ASC' } });
      // The created event failed once (connection refused); the ended one waits behind it.
      expect((await rows()).map((r) => [r.attempts, r.lastError])).toEqual([
        [1, 'WebhookError ECONNREFUSED'],
        [0, null],
      ]);

      await receiver.start();
      receiver.answer = 500;
      t.clock.advance(retryDelaySeconds(1));
      outbox.kick();
      await outbox.idle();
      expect((await rows()).map((r) => [r.attempts, r.lastError])).toEqual([
        [2, 'WebhookError http_500'],
        [0, null],
      ]);
      expect(receiver.received).toEqual([]);

      receiver.answer = 200;
      t.clock.advance(retryDelaySeconds(2));
      await drain(t);
      expect(receiver.received.map((e) => e.type)).toEqual(['session.created', 'session.ended']);
      expect(receiver.rejected).toEqual([]);
      await expectOneEventPerTransition(t, receiver.events());
      expect((await rows()).every((r) => r.sentAt !== null && r.payload === '')).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('delivers after a restart what an instance committed but never sent', async () => {
    const db = await sharedDatabase();
    try {
      const first = await createTestApp({ ...env(), DATABASE_URL: db.url });
      const user = await signup(first.http);
      // The worker stopped, as a process killed between the commit and the delivery leaves it.
      await first.app.get(Outbox).onModuleDestroy();
      for (let i = 0; i < 5; i++)
        await request(first.http).post('/login').send({ email: user.email, password: user.password }).expect(200);
      await first.app.get(AuthService).endAllSessions(user.id, 'revoked_by_admin');
      await first.close();
      expect(receiver.received).toEqual([]);

      const second = await createTestApp({ ...env(), DATABASE_URL: db.url, MIGRATIONS_RUN: 'false' });
      try {
        await drain(second);
        expect(await expectOneEventPerTransition(second, receiver.events())).toBe(5);
      } finally {
        await second.close();
      }
    } finally {
      await db.drop();
    }
  });

  (ON_POSTGRES ? describe : describe.skip)('two instances on one PostgreSQL database', () => {
    it('deliver each event once, in order per session', async () => {
      const db = await sharedDatabase();
      const a = await createTestApp({ ...env(), DATABASE_URL: db.url, MIGRATIONS_RUN: 'false' });
      const b = await createTestApp({ ...env(), DATABASE_URL: db.url, MIGRATIONS_RUN: 'false' });
      try {
        // Both deliver as they go (each kicked by its own commits, and by its poll), then drain at once.
        const users = [await signup(a.http), await signup(b.http)];
        for (let i = 0; i < 40; i++) {
          const user = users[i % 2];
          const app = i % 3 === 0 ? b : a;
          const res = await request(app.http).post('/login').send({ email: user.email, password: user.password });
          const token = /session_token=([^;]+)/.exec(String(res.headers['set-cookie']))![1];
          if (i % 4 === 0) await request(app.http).post('/logout').set('Cookie', `session_token=${token}`);
        }
        for (const user of users) await a.app.get(AuthService).endAllSessions(user.id, 'revoked_by_admin');
        await Promise.all([drain(a), drain(b)]);
        await Promise.all([drain(a), drain(b)]);
        expect(receiver.rejected).toEqual([]);
        const ids = receiver.received.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(await expectOneEventPerTransition(a, receiver.events())).toBe(40);
      } finally {
        await a.close();
        await b.close();
        await db.drop();
      }
    });
  });
});
