import { randomBytes } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { DataSource, In, LessThan } from 'typeorm';
import { createScratchDatabase, TEST_POSTGRES_URL, type ScratchDatabase } from './utils/postgres';
import type { QueryRunner } from 'typeorm';
import { LoginAttempt } from '../src/auth/login-attempt.entity';
import { CleanupService, type CleanupReport } from '../src/cleanup/cleanup.service';
import { BATCH_SIZE } from '../src/common/database/batches';
import { OutboxEntry } from '../src/mail/outbox.entity';
import { Outbox } from '../src/mail/outbox.service';
import { SessionsService } from '../src/sessions/sessions.service';
import { Session } from '../src/sessions/session.entity';
import { createTestApp, login, signup, type TestApp } from './utils/test-app';

const DAY = 86400;
const HOUR = 3600;

/** Inserts session rows straight into the table (many at once, in any state). */
async function addSessions(
  dataSource: DataSource,
  userId: number,
  count: number,
  state: Partial<Session>,
): Promise<number[]> {
  const ids: number[] = [];
  const now = new Date();
  for (let done = 0; done < count; done += 200) {
    const rows = Array.from({ length: Math.min(200, count - done) }, () => ({
      userId,
      tokenHash: randomBytes(32).toString('hex'),
      ipAddress: '203.0.113.9',
      userAgent: 'cleanup-spec',
      loginTime: now,
      lastActivity: now,
      logoutTime: null,
      isActive: true,
      expiresAt: now,
      endReason: null,
      // NOT NULL since the SessionInsights migration.
      authTime: now,
      ...state,
    }));
    const result = await dataSource.getRepository(Session).insert(rows);
    ids.push(...result.identifiers.map((i) => i.id as number));
  }
  return ids;
}

/** Inserts sign-in attempts made at `at`. */
async function addAttempts(dataSource: DataSource, userId: number, count: number, at: Date): Promise<number[]> {
  const ids: number[] = [];
  for (let done = 0; done < count; done += 200) {
    const rows = Array.from({ length: Math.min(200, count - done) }, () => ({
      attemptedAt: at,
      userId,
      email: 'someone@example.com',
      ipAddress: '203.0.113.9',
      userAgent: 'cleanup-spec',
      success: false,
      reason: 'bad_password' as const,
    }));
    const result = await dataSource.getRepository(LoginAttempt).insert(rows);
    ids.push(...result.identifiers.map((i) => i.id as number));
  }
  return ids;
}

const secondsFrom = (t: TestApp, seconds: number) => new Date(t.clock.now().getTime() + seconds * 1000);

/**
 * Two passes at once (as two instances would run them), then a third: between them every due row
 * is ended or deleted exactly once, and each ended session is logged once.
 */
async function expectConcurrentRunsToDoTheWorkOnce(t: TestApp, userId: number, n: number): Promise<void> {
  const job = t.app.get(CleanupService);
  const expiring = await addSessions(t.dataSource, userId, n, { expiresAt: secondsFrom(t, -1) });
  await addSessions(t.dataSource, userId, n, {
    isActive: false,
    endReason: 'logged_out',
    logoutTime: secondsFrom(t, -40 * DAY),
  });
  await addAttempts(t.dataSource, userId, n, secondsFrom(t, -40 * DAY));
  const logged = t.logs.length;

  const reports = await Promise.all([job.run(), job.run()]);
  const total = (key: keyof CleanupReport) => reports.reduce((sum, r) => sum + r[key], 0);
  expect({
    expired: total('sessions_expired'),
    deleted: total('sessions_deleted'),
    attempts: total('login_attempts_deleted'),
  }).toEqual({ expired: n, deleted: n, attempts: n });
  const ended = t.logs
    .slice(logged)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((l) => l.event === 'session_expired');
  expect(ended.map((l) => l.session_id).sort()).toEqual([...expiring].sort());

  const rows = await t.dataSource.getRepository(Session).findBy({ userId });
  expect(rows).toHaveLength(n);
  expect(rows.every((r) => !r.isActive && r.endReason === 'expired' && r.logoutTime !== null)).toBe(true);
  expect(await t.dataSource.getRepository(LoginAttempt).countBy({ userId })).toBe(0);

  expect(await job.run()).toEqual({
    sessions_expired: 0,
    sessions_idle_timeout: 0,
    sessions_deleted: 0,
    login_attempts_deleted: 0,
    outbox_deleted: 0,
    email_tokens_deleted: 0,
    webauthn_challenges_deleted: 0,
    sessions_ip_blanked: 0,
    login_attempts_ip_blanked: 0,
  });
  expect(await t.dataSource.getRepository(Session).countBy({ userId })).toBe(n);
}

describe('The cleanup job', () => {
  describe('without an idle timeout', () => {
    let t: TestApp;
    let job: CleanupService;
    let userId: number;
    const logLines = () => t.logs.map((line) => JSON.parse(line) as Record<string, unknown>);

    beforeAll(async () => {
      t = await createTestApp({ SESSION_TIMEOUT: String(HOUR) }, { captureLogs: true });
      job = t.app.get(CleanupService);
      userId = (await signup(t.http)).id;
    });
    afterAll(() => t.close());
    // Each test starts from empty tables (but the users), so the counts it reads are its own.
    beforeEach(async () => {
      await t.dataSource.getRepository(Session).clear();
      await t.dataSource.getRepository(LoginAttempt).clear();
    });

    it('is scheduled every CLEANUP_INTERVAL_MINUTES (10 by default) on a timer that never holds the process open', () => {
      const timer = t.app.get(SchedulerRegistry).getInterval('cleanup') as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      expect(t.config.cleanupIntervalMinutes).toBe(10);
    });

    it('ends active sessions past expires_at (reason expired, logout_time now) and leaves the others alone', async () => {
      const user = await signup(t.http);
      const viaApi = await login(t.http, user);
      const [due] = await addSessions(t.dataSource, userId, 1, { expiresAt: secondsFrom(t, 2 * HOUR) });
      const [live] = await addSessions(t.dataSource, userId, 1, { expiresAt: secondsFrom(t, 3 * HOUR) });
      const endedAt = secondsFrom(t, -60);
      const [loggedOut] = await addSessions(t.dataSource, userId, 1, {
        isActive: false,
        endReason: 'logged_out',
        logoutTime: endedAt,
        expiresAt: secondsFrom(t, -1),
      });
      // An old last_activity means nothing without an idle timeout.
      const [quiet] = await addSessions(t.dataSource, userId, 1, {
        lastActivity: secondsFrom(t, -30 * DAY),
        expiresAt: secondsFrom(t, 3 * HOUR),
      });

      t.clock.advance(2 * HOUR);
      const before = t.clock.now();
      const report = await job.run();
      const after = t.clock.now();

      expect(report).toEqual({
        sessions_expired: 2,
        sessions_idle_timeout: 0,
        sessions_deleted: 0,
        login_attempts_deleted: 0,
        outbox_deleted: 0,
        email_tokens_deleted: 0,
        webauthn_challenges_deleted: 0,
        sessions_ip_blanked: 0,
        login_attempts_ip_blanked: 0,
      });
      const rows = await t.dataSource
        .getRepository(Session)
        .findBy({ id: In([viaApi.body.session.id, due, live, loggedOut, quiet]) });
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of [viaApi.body.session.id, due]) {
        const row = byId.get(id)!;
        expect(row).toMatchObject({ isActive: false, endReason: 'expired' });
        expect(row.logoutTime!.getTime()).toBeGreaterThanOrEqual(before.getTime());
        expect(row.logoutTime!.getTime()).toBeLessThanOrEqual(after.getTime());
      }
      expect(byId.get(live)).toMatchObject({ isActive: true, endReason: null, logoutTime: null });
      expect(byId.get(quiet)).toMatchObject({ isActive: true, endReason: null, logoutTime: null });
      expect(byId.get(loggedOut)).toMatchObject({ isActive: false, endReason: 'logged_out', logoutTime: endedAt });

      // The client is told why, as when the guard itself finds the session expired.
      const status = await request(t.http).get('/session_status').set('Cookie', viaApi.cookie).expect(401);
      expect(status.body).toMatchObject({ authenticated: false, reason: 'expired' });
    });

    it('deletes ended sessions and login attempts older than RETENTION_DAYS (30), keeping newer ones', async () => {
      expect(t.config.retentionDays).toBe(30);
      const user = await signup(t.http);
      // Day 0: a session that ends at once, and two failed attempts.
      const first = await login(t.http, user);
      await request(t.http).post('/logout').set('Cookie', first.cookie).expect(200);
      for (let i = 0; i < 2; i++)
        await request(t.http).post('/login').send({ email: user.email, password: 'not the password' }).expect(401);
      const day0Attempts = await t.dataSource.getRepository(LoginAttempt).findBy({ userId: user.id });
      expect(day0Attempts).toHaveLength(3); // one success, two failures

      // Day 2: another that ends, and another attempt.
      t.clock.advance(2 * DAY);
      const second = await login(t.http, user);
      await request(t.http).post('/logout').set('Cookie', second.cookie).expect(200);

      // Day 31: a live session.
      t.clock.advance(29 * DAY);
      const third = await login(t.http, user);
      // The signups' verification mails, sent on day 0: past RETENTION_DAYS too.
      await t.app.get(Outbox).idle();
      const oldMail = await t.dataSource
        .getRepository(OutboxEntry)
        .countBy({ sentAt: LessThan(secondsFrom(t, -30 * DAY)) });
      expect(oldMail).toBeGreaterThan(0);
      const report = await job.run();

      expect(report).toEqual({
        sessions_expired: 0,
        sessions_idle_timeout: 0,
        sessions_deleted: 1,
        login_attempts_deleted: 3,
        outbox_deleted: oldMail,
        email_tokens_deleted: 0,
        webauthn_challenges_deleted: 0,
        sessions_ip_blanked: 0,
        login_attempts_ip_blanked: 0,
      });
      const sessions = await t.dataSource.getRepository(Session).findBy({ userId: user.id });
      expect(sessions.map((s) => s.id).sort()).toEqual([second.body.session.id, third.body.session.id].sort());
      const attempts = await t.dataSource.getRepository(LoginAttempt).findBy({ userId: user.id });
      expect(attempts).toHaveLength(2);
      expect(attempts.every((a) => !day0Attempts.some((old) => old.id === a.id))).toBe(true);

      // One structured line per pass, with its counts.
      expect(
        logLines()
          .filter((l) => l.event === 'cleanup')
          .at(-1),
      ).toMatchObject({
        level: 'info',
        context: 'Cleanup',
        sessions_expired: 0,
        sessions_deleted: 1,
        login_attempts_deleted: 3,
        outbox_deleted: oldMail,
        email_tokens_deleted: 0,
        webauthn_challenges_deleted: 0,
        sessions_ip_blanked: 0,
        login_attempts_ip_blanked: 0,
        retention_days: 30,
        duration_ms: expect.any(Number),
      });
    });

    it('deletes outbox rows sent or given up more than RETENTION_DAYS ago; never a row still to deliver', async () => {
      const outbox = t.dataSource.getRepository(OutboxEntry);
      await outbox.clear();
      const row = (daysAgo: number, state: Partial<OutboxEntry>) => ({
        kind: 'mail',
        payload: '',
        createdAt: secondsFrom(t, -daysAgo * DAY),
        availableAt: secondsFrom(t, -daysAgo * DAY),
        attempts: 1,
        ...state,
      });
      const inserted = await outbox.insert([
        row(31, { sentAt: secondsFrom(t, -31 * DAY) }),
        row(29, { sentAt: secondsFrom(t, -29 * DAY) }),
        row(35, { failedAt: secondsFrom(t, -31 * DAY), lastError: 'Error 550' }),
        row(32, { failedAt: secondsFrom(t, -29 * DAY), lastError: 'Error ECONNREFUSED' }),
        // Queued long ago and still to deliver (a long outage): kept. Its next attempt is far ahead,
        // so the app's own worker leaves it alone during the test.
        row(40, { payload: '{"to":"ada@example.com"}', availableAt: secondsFrom(t, 60 * DAY) }),
        // Created long ago, sent only now.
        row(40, { sentAt: secondsFrom(t, -1) }),
      ]);
      const [, newSent, , newFailed, pending, lateSent] = inserted.identifiers.map((i) => i.id as number);

      expect(await job.run()).toMatchObject({ outbox_deleted: 2, sessions_deleted: 0, login_attempts_deleted: 0 });
      const left = await outbox.find({ order: { id: 'ASC' } });
      expect(left.map((r) => r.id)).toEqual([newSent, newFailed, pending, lateSent]);
      expect(
        logLines()
          .filter((l) => l.event === 'cleanup')
          .at(-1),
      ).toMatchObject({ outbox_deleted: 2 });

      // Two days on, the rows that were 29 days old go too; the pending one stays.
      t.clock.advance(2 * DAY);
      expect(await job.run()).toMatchObject({ outbox_deleted: 2 });
      expect((await outbox.find()).map((r) => r.id).sort()).toEqual([pending, lateSent].sort());
      expect(await job.run()).toMatchObject({ outbox_deleted: 0 });
    });

    it('works through more rows than one batch, a bounded statement at a time', async () => {
      const n = 2 * BATCH_SIZE + 201;
      const expiring = await addSessions(t.dataSource, userId, n, { expiresAt: secondsFrom(t, -1) });
      await addSessions(t.dataSource, userId, n, {
        isActive: false,
        endReason: 'revoked',
        logoutTime: secondsFrom(t, -31 * DAY),
      });
      await addAttempts(t.dataSource, userId, n, secondsFrom(t, -31 * DAY));
      const keptAttempts = await addAttempts(t.dataSource, userId, 3, secondsFrom(t, -29 * DAY));
      // Every statement the job sends, in order.
      const statements: string[] = [];
      // The driver's query runner class (SQLite's, or PostgreSQL's under npm run test:pg).
      const runnerClass = Object.getPrototypeOf(t.dataSource.createQueryRunner()) as QueryRunner;
      // Called below with the runner as `this`.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      const query = runnerClass.query;
      const spy = jest.spyOn(runnerClass, 'query').mockImplementation(function (this: QueryRunner, ...args) {
        statements.push(args[0]);
        return query.apply(this, args);
      });
      const logged = t.logs.length;
      let report: CleanupReport;
      try {
        report = await job.run();
      } finally {
        spy.mockRestore();
      }

      expect(report).toEqual({
        sessions_expired: n,
        sessions_idle_timeout: 0,
        sessions_deleted: n,
        login_attempts_deleted: n,
        outbox_deleted: 0,
        email_tokens_deleted: 0,
        webauthn_challenges_deleted: 0,
        sessions_ip_blanked: 0,
        login_attempts_ip_blanked: 0,
      });
      // 500 + 500 + 201 rows, then one statement that finds nothing left.
      const count = (prefix: string) => statements.filter((sql) => sql.startsWith(prefix)).length;
      expect(count('UPDATE "sessions"')).toBe(4);
      expect(count('DELETE FROM "sessions"')).toBe(4);
      expect(count('DELETE FROM "login_attempts"')).toBe(4);
      for (const sql of statements.filter((s) => /^(UPDATE|DELETE)/.test(s)))
        expect(sql).toContain(`LIMIT ${BATCH_SIZE}`);

      expect(await t.dataSource.getRepository(Session).countBy({ isActive: true })).toBe(0);
      expect(await t.dataSource.getRepository(Session).countBy({ endReason: 'expired' })).toBe(n);
      expect(await t.dataSource.getRepository(Session).countBy({ endReason: 'revoked' })).toBe(0);
      expect((await t.dataSource.getRepository(LoginAttempt).find({ order: { id: 'ASC' } })).map((a) => a.id)).toEqual(
        keptAttempts,
      );
      // Each session the job ended is logged once, with its ids and no request id.
      const ended = logLines()
        .slice(logged)
        .filter((l) => l.event === 'session_expired');
      expect(ended.map((l) => l.session_id).sort()).toEqual([...expiring].sort());
      expect(ended[0]).toMatchObject({ user_id: userId, detected_by: 'cleanup' });
      expect(ended[0].reqId).toBeUndefined();
    });

    it('is harmless run twice, or twice at the same time (as two instances would)', async () => {
      await expectConcurrentRunsToDoTheWorkOnce(t, userId, BATCH_SIZE + 200);
    });

    it('on the timer: a failing pass is logged without detail and never thrown, and passes never overlap', async () => {
      const sessions = t.app.get(SessionsService);
      const failure = Object.assign(new Error('SQLITE_BUSY: database is locked near "UPDATE sessions SET ..."'), {
        code: 'SQLITE_BUSY',
      });
      const spy = jest.spyOn(sessions, 'endAllTimedOut').mockRejectedValue(failure);
      const logged = t.logs.length;
      try {
        const tick = () => (job as unknown as { runScheduled(): Promise<void> }).runScheduled();
        await expect(Promise.all([tick(), tick()])).resolves.toEqual([undefined, undefined]);
        expect(spy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
      }
      const lines = t.logs.slice(logged);
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({ level: 'error', event: 'cleanup_failed', error: 'Error', code: 'SQLITE_BUSY' }),
      ]);
      expect(lines.join('')).not.toContain('UPDATE');
    });
  });

  describe('with an idle timeout', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        SESSION_TIMEOUT: String(DAY),
        SESSION_IDLE_TIMEOUT: '600',
        CLEANUP_INTERVAL_MINUTES: '0',
      });
    });
    afterAll(() => t.close());

    it('is not scheduled with CLEANUP_INTERVAL_MINUTES=0, and still runs when called', async () => {
      expect(t.app.get(SchedulerRegistry).doesExist('interval', 'cleanup')).toBe(false);
      await expect(t.app.get(CleanupService).run()).resolves.toMatchObject({ sessions_expired: 0 });
    });

    it('also ends sessions unused for longer than SESSION_IDLE_TIMEOUT (reason idle_timeout)', async () => {
      const user = await signup(t.http);
      const idle = await login(t.http, user, 'idle device');
      const [expiredAndIdle] = await addSessions(t.dataSource, user.id, 1, { expiresAt: secondsFrom(t, 300) });
      t.clock.advance(601);
      // Used just now: stays.
      const [recent] = await addSessions(t.dataSource, user.id, 1, {
        lastActivity: secondsFrom(t, -599),
        expiresAt: secondsFrom(t, DAY),
      });

      expect(await t.app.get(CleanupService).run()).toEqual({
        sessions_expired: 1,
        sessions_idle_timeout: 1,
        sessions_deleted: 0,
        login_attempts_deleted: 0,
        outbox_deleted: 0,
        email_tokens_deleted: 0,
        webauthn_challenges_deleted: 0,
        sessions_ip_blanked: 0,
        login_attempts_ip_blanked: 0,
      });
      const byId = new Map(
        (await t.dataSource.getRepository(Session).findBy({ userId: user.id })).map((s) => [s.id, s]),
      );
      expect(byId.get(idle.body.session.id)).toMatchObject({ isActive: false, endReason: 'idle_timeout' });
      // Past both limits: expired, as the guard would say.
      expect(byId.get(expiredAndIdle)).toMatchObject({ isActive: false, endReason: 'expired' });
      expect(byId.get(recent)).toMatchObject({ isActive: true, endReason: null });
      const status = await request(t.http).get('/session_status').set('Cookie', idle.cookie).expect(401);
      expect(status.body.reason).toBe('idle_timeout');
    });
  });

  // PostgreSQL: run where a server is configured (CI sets TEST_POSTGRES_URL), on a database of its
  // own. Here the two passes really run at once, on two connections of the pool.
  const adminUrl = TEST_POSTGRES_URL;
  if (adminUrl)
    describe('on PostgreSQL', () => {
      let db: ScratchDatabase;
      let t: TestApp;
      beforeAll(async () => {
        db = await createScratchDatabase(adminUrl, 'cleanup');
        t = await createTestApp(
          { DATABASE_URL: db.url, SESSION_TIMEOUT: String(HOUR), SESSION_IDLE_TIMEOUT: '600' },
          { captureLogs: true },
        );
      });
      afterAll(async () => {
        await t?.close();
        await db?.drop();
      });

      it('ends, deletes and prunes the same way', async () => {
        const user = await signup(t.http);
        const idle = await login(t.http, user);
        const [expired] = await addSessions(t.dataSource, user.id, 1, { expiresAt: secondsFrom(t, 300) });
        const [old] = await addSessions(t.dataSource, user.id, 1, {
          isActive: false,
          endReason: 'revoked',
          logoutTime: secondsFrom(t, -31 * DAY),
        });
        const [kept] = await addSessions(t.dataSource, user.id, 1, {
          isActive: false,
          endReason: 'revoked',
          logoutTime: secondsFrom(t, -29 * DAY),
        });
        await addAttempts(t.dataSource, user.id, 2, secondsFrom(t, -31 * DAY));
        t.clock.advance(601);

        expect(await t.app.get(CleanupService).run()).toEqual({
          sessions_expired: 1,
          sessions_idle_timeout: 1,
          sessions_deleted: 1,
          login_attempts_deleted: 2,
          outbox_deleted: 0,
          email_tokens_deleted: 0,
          webauthn_challenges_deleted: 0,
          sessions_ip_blanked: 0,
          login_attempts_ip_blanked: 0,
        });
        const byId = new Map(
          (await t.dataSource.getRepository(Session).findBy({ userId: user.id })).map((s) => [s.id, s]),
        );
        expect(byId.get(idle.body.session.id)).toMatchObject({ isActive: false, endReason: 'idle_timeout' });
        expect(byId.get(expired)).toMatchObject({ isActive: false, endReason: 'expired' });
        expect(byId.has(old)).toBe(false);
        expect(byId.get(kept)).toMatchObject({ endReason: 'revoked' });
        expect(await t.dataSource.getRepository(LoginAttempt).countBy({ userId: user.id })).toBe(1); // the login above
      });

      it('does the work once when two passes run at the same moment', async () => {
        const user = await signup(t.http);
        await expectConcurrentRunsToDoTheWorkOnce(t, user.id, 3 * BATCH_SIZE + 17);
      });
    });
});
