import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { LoginAttempt } from '../../src/auth/login-attempt.entity';
import { GlobalChat } from '../../src/chat/global-chat.entity';
import { CleanupService } from '../../src/cleanup/cleanup.service';
import { Session } from '../../src/sessions/session.entity';
import {
  adminQuery,
  createScratchDatabase,
  databaseUrl,
  TEST_POSTGRES_URL,
  type ScratchDatabase,
} from '../utils/postgres';
import { createTestApp, login, sessionSetCookie, signup, type TestApp } from '../utils/test-app';

const SCRIPT = join(__dirname, '../../scripts/pgbouncer.sh');
const DAY = 86_400;

/**
 * The server through PgBouncer in transaction mode (scripts/pgbouncer.sh): every statement and
 * transaction may run on another server connection, so nothing may rely on session state. A whole
 * flow, migrations included, runs through it; statement_timeout comes from the database's own
 * setting, since the pooler ignores the startup parameter (docs/REPLICATION.md).
 */
describe('Through PgBouncer in transaction mode', () => {
  let dir: string;
  let database: ScratchDatabase;
  let direct: Client;
  let t: TestApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgbouncer-'));
    chmodSync(dir, 0o755); // pgbouncer runs as the postgres user
    const server = new URL(TEST_POSTGRES_URL!);
    const out = execFileSync(
      'bash',
      [SCRIPT, 'start', join(dir, 'bouncer'), `${server.hostname}:${server.port || 5432}`],
      {
        encoding: 'utf8',
      },
    );
    const port = /^PORT=(\d+)$/m.exec(out)![1];
    // An empty database: the migrations run at start, through the pooler.
    database = await createScratchDatabase(TEST_POSTGRES_URL!, process.env.TEST_PG_RUN!);
    const name = new URL(database.url).pathname.slice(1);
    await adminQuery(TEST_POSTGRES_URL!, `ALTER DATABASE "${name}" SET statement_timeout = '5s'`);
    direct = new Client({ connectionString: database.url });
    await direct.connect();
    const bounced = new URL(databaseUrl(TEST_POSTGRES_URL!, name));
    bounced.hostname = '127.0.0.1';
    bounced.port = port;
    t = await createTestApp({ DATABASE_URL: bounced.toString(), DATABASE_POOL_SIZE: '20' });
  }, 180_000);

  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await direct?.end().catch(() => undefined);
    if (dir) {
      execFileSync('bash', [SCRIPT, 'stop', join(dir, 'bouncer')]);
      rmSync(dir, { recursive: true, force: true });
    }
    await database?.drop();
  }, 60_000);

  const status = (cookie: string) => request(t.http).get('/session_status').set('Cookie', cookie);

  it('reaches PostgreSQL through the pooler, with the statement timeout set on the database', async () => {
    const [row] = await t.dataSource.query<Array<{ port: number; timeout: string }>>(
      "SELECT inet_server_port() AS port, current_setting('statement_timeout') AS timeout",
    );
    expect(Number(row.port)).toBe(Number(new URL(TEST_POSTGRES_URL!).port || 5432));
    expect(row.timeout).toBe('5s');
    const migrated = await direct.query<{ n: string }>('SELECT count(*) AS n FROM migrations');
    expect(Number(migrated.rows[0].n)).toBeGreaterThan(0);
  });

  it('runs signup, logins (ten at once), revocation, chat, a password change and the cleanup job', async () => {
    const alice = await signup(t.http, { name: 'Alice' });
    const bob = await signup(t.http, { name: 'Bob' });
    const first = await login(t.http, alice, 'first');
    const me = (await status(first.cookie).expect(200)).body;
    expect(me.user.id).toBe(alice.id);

    // Ten logins of one user at once: each a transaction that locks the user's row and enforces the cap.
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(t.http)
          .post('/login')
          .set('User-Agent', `burst-${i}`)
          .send({ email: alice.email, password: alice.password }),
      ),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    const active = await direct.query('SELECT id FROM sessions WHERE user_id = $1 AND is_active', [alice.id]);
    expect(active.rowCount).toBe(10); // MAX_SESSIONS_PER_USER: the 11th ended the least recently active
    // Revoking one session refuses it at once.
    const victim = burst[3].body.session.id as number;
    const holder = sessionSetCookie(burst[0].headers['set-cookie']).split(';')[0];
    // The clock stands still, so the oldest session is the least recently active: the first one.
    expect((await status(first.cookie).expect(401)).body.reason).toBe('revoked');
    const listed = await request(t.http).get('/active_sessions').set('Cookie', holder).expect(200);
    expect(listed.body.sessions).toHaveLength(10);
    await request(t.http).delete(`/active_sessions/${victim}`).set('Cookie', holder).expect(204);
    const victimCookie = sessionSetCookie(burst[3].headers['set-cookie']).split(';')[0];
    expect((await status(victimCookie).expect(401)).body.reason).toBe('revoked');
    const revokedAll = await request(t.http).delete('/active_sessions').set('Cookie', holder).expect(200);
    expect(revokedAll.body.revoked).toBeGreaterThan(0);

    // Chat, private and global.
    const bobSession = await login(t.http, bob);
    await request(t.http)
      .post('/chats')
      .set('Cookie', holder)
      .send({ receiver_id: bob.id, message: 'hello through the pooler' })
      .expect(201);
    const history = await request(t.http).get(`/chats/${alice.id}`).set('Cookie', bobSession.cookie).expect(200);
    expect(history.body.messages.map((m: { message: string }) => m.message)).toEqual(['hello through the pooler']);
    await request(t.http).post('/global_chat').set('Cookie', bobSession.cookie).send({ message: 'hi all' }).expect(201);
    const room = await request(t.http).get('/global_chat').set('Cookie', holder).expect(200);
    expect(room.body.messages[0]).toMatchObject({ user_id: bob.id, message: 'hi all' });
    expect(await t.dataSource.getRepository(GlobalChat).countBy({ userId: bob.id })).toBe(1);

    // A password change replaces the caller's session and ends the others.
    const other = await login(t.http, alice, 'other');
    const changed = await request(t.http)
      .post('/change_password')
      .set('Cookie', holder)
      .send({ current_password: alice.password, new_password: 'another horse battery' })
      .expect(200);
    expect(changed.body.revoked).toBeGreaterThanOrEqual(1);
    expect((await status(other.cookie).expect(401)).body.reason).toBe('revoked');
    expect((await status(holder).expect(401)).body.reason).toBe('revoked');
    const renewed = sessionSetCookie(changed.headers['set-cookie']).split(';')[0];
    await status(renewed).expect(200);
    await login(t.http, { email: alice.email, password: 'another horse battery' });

    // The cleanup job: every session expires after a day, and ended ones are deleted after the retention.
    const job = t.app.get(CleanupService);
    t.clock.advance(2 * DAY);
    const stillActive = await t.dataSource.getRepository(Session).countBy({ isActive: true });
    expect((await job.run()).sessions_expired).toBe(stillActive);
    await status(renewed).expect(401);
    t.clock.advance(31 * DAY);
    const report = await job.run();
    expect(report.sessions_deleted).toBeGreaterThan(0);
    expect(report.login_attempts_deleted).toBeGreaterThan(0);
    expect(Number((await direct.query('SELECT count(*) AS n FROM sessions')).rows[0].n)).toBe(0);
    expect(await t.dataSource.getRepository(LoginAttempt).count()).toBe(0);
  }, 60_000);
});
