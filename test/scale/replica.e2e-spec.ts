import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { createTestApp, login, signup, type TestApp, type TestUser } from '../utils/test-app';

const SCRIPT = join(__dirname, '../../scripts/pg-replica.sh');

/**
 * DATABASE_REPLICA_URL on a real primary and hot standby (scripts/pg-replica.sh): the lists and
 * histories are served by the replica, and may lag; the guard, the writes and the reads that decide
 * them are served by the primary, so an ended session is refused at once; with the replica gone the
 * lists come from the primary.
 */
describe('A read replica', () => {
  let dir: string;
  let t: TestApp;
  let primary: Client;
  let replica: Client;
  let alice: TestUser;
  let bob: TestUser;
  let aliceCookie: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pg-replica-'));
    chmodSync(dir, 0o755); // the servers run as the postgres user
    const out = execFileSync('bash', [SCRIPT, 'start', join(dir, 'clusters')], { encoding: 'utf8' });
    const urls = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((line) => line.split('=', 2)),
    );
    primary = new Client({ connectionString: urls.PRIMARY_URL });
    replica = new Client({ connectionString: urls.REPLICA_URL });
    // The replica is stopped by the last test: its connection then ends.
    replica.on('error', () => undefined);
    await primary.connect();
    await replica.connect();
    // Migrations run at start on the primary and reach the replica by replication.
    t = await createTestApp(
      { DATABASE_URL: urls.PRIMARY_URL, DATABASE_REPLICA_URL: urls.REPLICA_URL },
      { captureLogs: true },
    );
    alice = await signup(t.http, { name: 'Alice' });
    bob = await signup(t.http, { name: 'Bob' });
    aliceCookie = (await login(t.http, alice)).cookie;
    await caughtUp();
  }, 60_000);

  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await primary?.end().catch(() => undefined);
    await replica?.end().catch(() => undefined);
    if (dir) {
      execFileSync('bash', [SCRIPT, 'stop', join(dir, 'clusters')]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  /** Waits until the replica has replayed everything the primary has written so far. */
  async function caughtUp(): Promise<void> {
    const { rows } = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    for (let i = 0; i < 200; i++) {
      const behind = await replica.query<{ behind: boolean }>(
        'SELECT pg_last_wal_replay_lsn() < $1::pg_lsn AS behind',
        [rows[0].lsn],
      );
      if (!behind.rows[0].behind) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the replica did not catch up');
  }

  async function pauseReplay(): Promise<void> {
    await replica.query('SELECT pg_wal_replay_pause()');
    for (let i = 0; i < 200; i++) {
      const { rows } = await replica.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state');
      if (rows[0].state === 'paused') return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('replay did not pause');
  }

  const get = (path: string, cookie: string) => request(t.http).get(path).set('Cookie', cookie);
  const status = (cookie: string) => get('/session_status', cookie);

  it('is a standby the app reaches through DATABASE_REPLICA_URL', async () => {
    expect((await replica.query('SELECT pg_is_in_recovery() AS standby')).rows[0].standby).toBe(true);
    expect(t.dataSource.driver.isReplicated).toBe(true);
    // The schema came by replication.
    expect((await replica.query("SELECT to_regclass('sessions') AS t")).rows[0].t).toBe('sessions');
  });

  it('accepts a new session and refuses an ended one at once, every time (the guard reads the primary)', async () => {
    for (let i = 0; i < 25; i++) {
      const session = await login(t.http, alice, `loop-${i}`);
      await status(session.cookie).expect(200);
      const other = await login(t.http, alice, `loop-other-${i}`);
      await status(other.cookie).expect(200);

      await request(t.http).post('/logout').set('Cookie', session.cookie).expect(200);
      expect((await status(session.cookie).expect(401)).body.reason).toBe('logged_out');

      await request(t.http).delete(`/active_sessions/${other.body.session.id}`).set('Cookie', aliceCookie).expect(204);
      expect((await status(other.cookie).expect(401)).body.reason).toBe('revoked');
    }
  }, 60_000);

  describe('while the replica has stopped replaying', () => {
    let bobCookie: string;

    beforeAll(async () => {
      bobCookie = (await login(t.http, bob)).cookie;
      await request(t.http).post('/global_chat').set('Cookie', aliceCookie).send({ message: 'before' }).expect(201);
      await caughtUp();
      await pauseReplay();
    });

    afterAll(async () => {
      await replica.query('SELECT pg_wal_replay_resume()');
    });

    it('serves the lists and histories from the replica, which lags, and the guard from the primary', async () => {
      const posted = await request(t.http)
        .post('/global_chat')
        .set('Cookie', aliceCookie)
        .send({ message: 'during the pause' })
        .expect(201);
      await request(t.http)
        .post('/chats')
        .set('Cookie', aliceCookie)
        .send({ receiver_id: bob.id, message: 'private, during the pause' })
        .expect(201);
      const fresh = await login(t.http, alice, 'during-pause');

      // The primary has them all: the new session works at once.
      await status(fresh.cookie).expect(200);
      const onPrimary = await primary.query('SELECT 1 FROM global_chat WHERE id = $1', [posted.body.message.id]);
      expect(onPrimary.rowCount).toBe(1);

      // The replica has none of them yet, and the lists are read there.
      const global = (await get('/global_chat', bobCookie).expect(200)).body.messages as Array<{ message: string }>;
      expect(global.map((m) => m.message)).toContain('before');
      expect(global.map((m) => m.message)).not.toContain('during the pause');
      const chats = (await get(`/chats/${alice.id}`, bobCookie).expect(200)).body.messages as unknown[];
      expect(chats).toHaveLength(0);
      const conversations = (await get('/chats', bobCookie).expect(200)).body.conversations as unknown[];
      expect(conversations).toHaveLength(0);
      const sessions = (await get('/active_sessions', aliceCookie).expect(200)).body.sessions as Array<{ id: number }>;
      expect(sessions.map((s) => s.id)).not.toContain(fresh.body.session.id);
      const attempts = (await get('/login_activity', aliceCookie).expect(200)).body.attempts as Array<{
        user_agent: string;
      }>;
      expect(attempts.map((a) => a.user_agent)).not.toContain('during-pause');

      // Ending a session is decided on the primary and refused at once, though the replica still lists it.
      await request(t.http).delete(`/active_sessions/${fresh.body.session.id}`).set('Cookie', aliceCookie).expect(204);
      expect((await status(fresh.cookie).expect(401)).body.reason).toBe('revoked');
      const bobSecond = await login(t.http, bob, 'bob-during-pause');
      await request(t.http).post('/logout').set('Cookie', bobSecond.cookie).expect(200);
      await status(bobSecond.cookie).expect(401);

      // Replay resumes: the lists catch up.
      await replica.query('SELECT pg_wal_replay_resume()');
      await caughtUp();
      const after = (await get('/global_chat', bobCookie).expect(200)).body.messages as Array<{ message: string }>;
      expect(after.map((m) => m.message)).toContain('during the pause');
      expect((await get(`/chats/${alice.id}`, bobCookie).expect(200)).body.messages).toHaveLength(1);
      const activity = (await get('/login_activity', aliceCookie).expect(200)).body.attempts as Array<{
        user_agent: string;
      }>;
      expect(activity.map((a) => a.user_agent)).toContain('during-pause');
    });
  });

  it('answers from the primary when the replica is down, with a warning and no error', async () => {
    const line = await request(t.http)
      .post('/global_chat')
      .set('Cookie', aliceCookie)
      .send({ message: 'replica down' })
      .expect(201);
    execFileSync('bash', [SCRIPT, 'stop', join(dir, 'clusters'), 'replica']);

    for (let i = 0; i < 3; i++) {
      const global = (await get('/global_chat', aliceCookie).expect(200)).body.messages as Array<{ id: number }>;
      expect(global[0].id).toBe(line.body.message.id);
      await get('/active_sessions', aliceCookie).expect(200);
      await get('/login_activity', aliceCookie).expect(200);
      await get(`/chats/${bob.id}`, aliceCookie).expect(200);
      await get('/chats', aliceCookie).expect(200);
    }
    // Logins, the guard and writes never needed it.
    const session = await login(t.http, bob, 'replica-down');
    await status(session.cookie).expect(200);
    const warnings = t.logs.filter((l) => l.includes('read replica failed'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    // Once found down, the replica is skipped for a while rather than tried on every read.
    expect(warnings.length).toBeLessThanOrEqual(2);
    expect(t.logs.filter((l) => /"statusCode":5\d\d|"status":5\d\d/.test(l))).toEqual([]);
  });
});
