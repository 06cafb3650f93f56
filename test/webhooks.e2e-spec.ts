import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { AuthService } from '../src/auth/auth.service';
import { LoginAttempt } from '../src/auth/login-attempt.entity';
import { CleanupService } from '../src/cleanup/cleanup.service';
import { OutboxEntry } from '../src/mail/outbox.entity';
import { Outbox, retryDelaySeconds } from '../src/mail/outbox.service';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { createScratchDatabase, ON_POSTGRES, TEST_POSTGRES_URL, type ScratchDatabase } from './utils/postgres';
import { createTestApp, signup, type TestApp, type TestUser } from './utils/test-app';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { session_id?: number; user_id?: number | null; reason?: string };
  body: string;
  headers: IncomingHttpHeaders;
}

/**
 * A webhook endpoint on loopback: every request's signature is checked with the standardwebhooks
 * package (a request that fails the check fails the test); `answer` is what it replies (200, or a
 * failure), and `stop`/`start` make it refuse connections altogether.
 */
class Receiver {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  answer = 200;
  private server: Server | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<void> {
    const verifier = new Webhook(SECRET);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          if (req.headers['content-type'] !== 'application/json') throw new Error('not JSON');
          const message = verifier.verify(body, req.headers as Record<string, string>) as Omit<Received, 'id'>;
          if (this.answer === 200)
            this.received.push({ ...message, id: req.headers['webhook-id'] as string, body, headers: req.headers });
        } catch (error) {
          this.rejected.push(String(error));
        }
        res.writeHead(this.answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** The distinct events received (by webhook-id); a retry must repeat its event exactly. */
  events(): Received[] {
    const byId = new Map<string, Received>();
    for (const event of this.received) {
      const first = byId.get(event.id);
      if (first) expect(event.body).toBe(first.body);
      else byId.set(event.id, event);
    }
    return [...byId.values()];
  }
}

/** Delivers until no webhook row is pending (rows held back by their order become due as earlier ones go). */
async function drain(t: TestApp): Promise<void> {
  const outbox = t.app.get(Outbox);
  for (let round = 0; round < 1000; round++) {
    outbox.kick();
    await outbox.idle();
    const pending = await t.dataSource
      .getRepository(OutboxEntry)
      .createQueryBuilder('o')
      .where("o.kind = 'webhook' AND o.sent_at IS NULL AND o.failed_at IS NULL")
      .getCount();
    if (pending === 0) return;
  }
  throw new Error('outbox not drained');
}

/** A seeded generator, so a failing mix can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A database two apps can open one after the other (or at once, on PostgreSQL). */
async function sharedDatabase(): Promise<ScratchDatabase> {
  if (ON_POSTGRES)
    return createScratchDatabase(TEST_POSTGRES_URL!, process.env.TEST_PG_RUN!, process.env.TEST_PG_TEMPLATE);
  const folder = mkdtempSync(join(tmpdir(), 'webhooks-'));
  return { url: `sqlite:///${join(folder, 'app.db')}`, drop: () => rm(folder, { recursive: true, force: true }) };
}

/** Each session's events in the order received, by session id. */
function bySession(events: Received[]): Map<number, Received[]> {
  const sessions = new Map<number, Received[]>();
  for (const event of events) {
    if (!event.type.startsWith('session.')) continue;
    const id = event.data.session_id!;
    sessions.set(id, [...(sessions.get(id) ?? []), event]);
  }
  return sessions;
}

/** Every session row against the events: one session.created each, and one session.ended with its reason if ended. */
async function expectOneEventPerTransition(t: TestApp, events: Received[]): Promise<number> {
  const sessions = await t.dataSource.getRepository(Session).find();
  const received = bySession(events);
  for (const session of sessions) {
    const expected = [{ type: 'session.created', data: expect.objectContaining({ session_id: session.id }) }];
    if (!session.isActive)
      expected.push({
        type: 'session.ended',
        data: expect.objectContaining({ session_id: session.id, user_id: session.userId, reason: session.endReason }),
      });
    expect((received.get(session.id) ?? []).map(({ type, data }) => ({ type, data }))).toEqual(expected);
  }
  expect(received.size).toBe(sessions.length);
  return sessions.length;
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
