import { ConflictException, ForbiddenException, NotFoundException } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Transaction, Transactions } from '../common/database/transactions';
import type { AppConfig } from '../config/app.config';
import { User } from '../users/user.entity';
import type { UsersService } from '../users/users.service';
import type { AuthEvents } from './auth-events';
import { Session, type EndReason } from './session.entity';
import { hashSessionToken } from './session-token';
import type { EndedSession, NewSession, SignInOrigin, SessionsRepository } from './sessions.repository';
import { SessionsService, type SessionOptions } from './sessions.service';
import type { TimeoutReason } from './session-rules';

/** The rules of SessionsService, against an in-memory sessions table: no database, no Nest. */

type Public<T> = { [K in keyof T]: T[K] };

/** One transaction object for the whole spec: the fake records which writes were handed it. */
const TX = { fake: 'transaction' } as unknown as Transaction;

/** The sessions table in memory, with the users the guard's read joins. */
class InMemorySessions implements Public<SessionsRepository> {
  readonly rows = new Map<number, Session>();
  readonly users = new Map<number, User>();
  readonly touched: Array<{ id: number; at: Date }> = [];
  readonly writesInTx: string[] = [];
  private nextId = 1;

  findWithUser(tokenHash: string) {
    const row = [...this.rows.values()].find((s) => s.tokenHash === tokenHash);
    const user = row && this.users.get(row.userId);
    // Copies, as a database read gives: the service may change what it gets without writing.
    return Promise.resolve(row && user ? { session: this.copy(row), user: { ...user } } : undefined);
  }

  touch(id: number, at: Date) {
    const row = this.rows.get(id);
    if (row?.isActive) row.lastActivity = at;
    this.touched.push({ id, at });
    return Promise.resolve();
  }

  insert(row: NewSession, tx?: Transaction) {
    this.noteTx('insert', tx);
    const session = Object.assign(new Session(), row, { id: this.nextId++ });
    this.rows.set(session.id, this.copy(session));
    return Promise.resolve(session);
  }

  existsFrom(userId: number, origin: SignInOrigin) {
    return Promise.resolve(
      [...this.rows.values()].some(
        (s) =>
          s.userId === userId &&
          s.deviceBrowser === origin.browser &&
          s.deviceOs === origin.os &&
          s.country === origin.country,
      ),
    );
  }

  end(id: number, reason: EndReason, now: Date, tx?: Transaction): Promise<EndedSession[]> {
    this.noteTx('end', tx);
    const row = this.rows.get(id);
    if (!row?.isActive) return Promise.resolve([]);
    Object.assign(row, { isActive: false, logoutTime: now, endReason: reason });
    return Promise.resolve([{ id, userId: row.userId }]);
  }

  async endActive(userId: number, reason: EndReason, now: Date, tx?: Transaction) {
    return this.endActiveExcept(userId, -1, reason, now, tx);
  }

  async endActiveExcept(userId: number, keepId: number, reason: EndReason, now: Date, tx?: Transaction) {
    this.noteTx('endActive', tx);
    const ended: EndedSession[] = [];
    for (const row of this.rows.values())
      if (row.userId === userId && row.id !== keepId) ended.push(...(await this.end(row.id, reason, now, tx)));
    return ended;
  }

  activeByLastUse(userId: number, tx?: Transaction) {
    this.noteTx('activeByLastUse', tx);
    return Promise.resolve(
      this.active(userId).sort((a, b) => b.lastActivity.getTime() - a.lastActivity.getTime() || b.id - a.id),
    );
  }

  listActive(userId: number, credentialVersion: number) {
    return Promise.resolve(
      this.active(userId)
        .filter((s) => s.credentialVersion === credentialVersion)
        .sort((a, b) => b.loginTime.getTime() - a.loginTime.getTime() || b.id - a.id),
    );
  }

  findActiveOf(userId: number, sessionId: number) {
    return Promise.resolve(this.active(userId).find((s) => s.id === sessionId) ?? null);
  }

  advanceVersion(id: number, from: number, tx?: Transaction) {
    this.noteTx('advanceVersion', tx);
    const row = this.rows.get(id);
    if (!row?.isActive || row.credentialVersion !== from) return Promise.resolve(false);
    row.credentialVersion = from + 1;
    return Promise.resolve(true);
  }

  markAuthenticated(id: number, at: Date) {
    const row = this.rows.get(id);
    if (row?.isActive) row.authTime = at;
    return Promise.resolve();
  }

  async endDue(
    reason: TimeoutReason,
    now: Date,
    idleSince: Date,
    ended: (sessions: EndedSession[], tx: Transaction) => Promise<void>,
  ) {
    const due = [...this.rows.values()].filter(
      (s) =>
        s.isActive &&
        (reason === 'expired'
          ? s.expiresAt <= now
          : s.lastActivity.getTime() < idleSince.getTime() && s.expiresAt > now),
    );
    due.forEach((s) => Object.assign(s, { isActive: false, logoutTime: now, endReason: reason }));
    await ended(
      due.map((s) => ({ id: s.id, userId: s.userId })),
      TX,
    );
    return due.length;
  }

  deleteEndedBefore(cutoff: Date) {
    const old = [...this.rows.values()].filter((s) => !s.isActive && s.logoutTime! < cutoff);
    old.forEach((s) => this.rows.delete(s.id));
    return Promise.resolve(old.length);
  }

  blankEndedIpsBefore(cutoff: Date) {
    const old = [...this.rows.values()].filter((s) => !s.isActive && s.logoutTime! < cutoff && s.ipAddress);
    old.forEach((s) => (s.ipAddress = null));
    return Promise.resolve(old.length);
  }

  private active(userId: number): Session[] {
    return [...this.rows.values()].filter((s) => s.userId === userId && s.isActive).map((s) => this.copy(s));
  }

  private copy(session: Session): Session {
    return Object.assign(new Session(), session);
  }

  private noteTx(write: string, tx?: Transaction) {
    if (tx === TX) this.writesInTx.push(write);
  }
}

class TestClock extends Clock {
  private at = new Date('2030-01-01T00:00:00.000Z');
  override now(): Date {
    return new Date(this.at);
  }
  advance(seconds: number): void {
    this.at = new Date(this.at.getTime() + seconds * 1000);
  }
}

const SECRET = 'a test secret key of at least thirty-two characters';
const HOUR = 3600;

function setup(overrides: Partial<AppConfig> = {}) {
  const config = {
    secretKey: SECRET,
    sessionTimeout: 24 * HOUR,
    sessionIdleTimeout: 0,
    rememberMeTimeout: 30 * 24 * HOUR,
    reauthMaxAge: 600,
    maxSessionsPerUser: 10,
    ...overrides,
  } as AppConfig;
  const repo = new InMemorySessions();
  const clock = new TestClock();
  const events = { sessionTimedOut: jest.fn(), logout: jest.fn(), sessionRevoked: jest.fn() };
  const users = { changeCredentials: jest.fn<Promise<boolean>, Parameters<UsersService['changeCredentials']>>() };
  const transactions = { run: jest.fn((work: (tx: Transaction) => Promise<unknown>) => work(TX)) };
  const lifecycle = { emit: jest.fn((..._args: unknown[]) => Promise.resolve()) };
  const service = new SessionsService(
    repo as unknown as SessionsRepository,
    config,
    clock,
    events as unknown as AuthEvents,
    users as unknown as UsersService,
    transactions as unknown as Transactions,
    lifecycle,
  );
  const user = Object.assign(new User(), {
    id: 7,
    name: 'Ada',
    email: 'ada@example.com',
    isActive: true,
    isAdmin: false,
    credentialVersion: 3,
  });
  repo.users.set(user.id, user);
  const options = (more: Partial<SessionOptions> = {}): SessionOptions => ({
    rememberMe: null,
    origin: { device: { browser: 'Firefox', os: 'Linux', type: 'desktop' }, country: 'FR' },
    newDevice: false,
    credentialVersion: user.credentialVersion,
    ...more,
  });
  const client = { ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' };
  const start = (more: Partial<SessionOptions> = {}) => service.start(user, client, options(more), TX);
  return { service, repo, clock, events, users, transactions, lifecycle, user, config, start, client, options };
}

describe('SessionsService (rules, against an in-memory repository)', () => {
  describe('lifecycle events', () => {
    it('emits session.created with the start, and session.ended once per session that ended, in the same transaction', async () => {
      const s = setup();
      const { session: a } = await s.start();
      const { session: b } = await s.start();
      expect(s.lifecycle.emit.mock.calls).toEqual([
        ['session.created', expect.objectContaining({ session_id: a.id, user_id: s.user.id }), `session:${a.id}`, TX],
        ['session.created', expect.objectContaining({ session_id: b.id, user_id: s.user.id }), `session:${b.id}`, TX],
      ]);
      s.lifecycle.emit.mockClear();
      expect(await s.service.end(a.id, 'logged_out')).toBe(true);
      // Already ended: no statement changed it, no event.
      expect(await s.service.end(a.id, 'revoked')).toBe(false);
      expect(await s.service.endAll(s.user.id, 'revoked_by_admin')).toBe(1);
      const ended = s.lifecycle.emit.mock.calls.map(([type, data, key, tx]) => [type, data, key, tx]);
      expect(ended).toEqual([
        ['session.ended', expect.objectContaining({ session_id: a.id, reason: 'logged_out' }), `session:${a.id}`, TX],
        [
          'session.ended',
          expect.objectContaining({ session_id: b.id, reason: 'revoked_by_admin' }),
          `session:${b.id}`,
          TX,
        ],
      ]);
      // Without a transaction given, each ending ran in one of its own (with its event).
      expect(s.transactions.run).toHaveBeenCalledTimes(3);
    });
  });

  describe('authenticate', () => {
    it('refuses an ill-formed token without reading the table, and an unknown one as invalid', async () => {
      const { service, repo } = setup();
      const read = jest.spyOn(repo, 'findWithUser');
      expect(await service.authenticate('not a token')).toEqual({ ok: false, reason: 'invalid' });
      expect(read).not.toHaveBeenCalled();
      expect(await service.authenticate('A'.repeat(43))).toEqual({ ok: false, reason: 'invalid' });
      expect(read).toHaveBeenCalledWith(hashSessionToken('A'.repeat(43), SECRET));
    });

    it('accepts a fresh session and hands back its user', async () => {
      const { service, start, user } = setup();
      const { session, token } = await start();
      const result = await service.authenticate(token);
      expect(result).toMatchObject({ ok: true, user: { id: user.id }, session: { id: session.id } });
    });

    it('ends an expired session with reason `expired`, logs it once, and keeps refusing it for that reason', async () => {
      const { service, start, clock, repo, events, user } = setup();
      const { session, token } = await start();
      clock.advance(24 * HOUR);
      expect(await service.authenticate(token)).toEqual({ ok: false, reason: 'expired' });
      expect(repo.rows.get(session.id)).toMatchObject({
        isActive: false,
        endReason: 'expired',
        logoutTime: clock.now(),
      });
      expect(events.sessionTimedOut).toHaveBeenCalledWith('expired', user.id, session.id, 'request');
      clock.advance(1);
      expect(await service.authenticate(token)).toEqual({ ok: false, reason: 'expired' });
      expect(events.sessionTimedOut).toHaveBeenCalledTimes(1);
    });

    it('ends a session unused for longer than the idle timeout with reason `idle_timeout`', async () => {
      const { service, start, clock, repo } = setup({ sessionIdleTimeout: 900 });
      const { session, token } = await start();
      clock.advance(900);
      expect((await service.authenticate(token)).ok).toBe(true);
      clock.advance(901);
      expect(await service.authenticate(token)).toEqual({ ok: false, reason: 'idle_timeout' });
      expect(repo.rows.get(session.id)).toMatchObject({ isActive: false, endReason: 'idle_timeout' });
    });

    it('ends the session of a disabled account with reason `account_disabled`', async () => {
      const { service, start, repo, user } = setup();
      const { session, token } = await start();
      repo.users.get(user.id)!.isActive = false;
      expect(await service.authenticate(token)).toEqual({ ok: false, reason: 'account_disabled' });
      expect(repo.rows.get(session.id)).toMatchObject({ isActive: false, endReason: 'account_disabled' });
    });

    it('refuses a session born under an older credential version as `revoked`, without ending it', async () => {
      const { service, start, repo, user } = setup();
      const { session, token } = await start();
      repo.users.get(user.id)!.credentialVersion = user.credentialVersion + 1;
      expect(await service.authenticate(token)).toEqual({ ok: false, reason: 'revoked' });
      expect(repo.rows.get(session.id)).toMatchObject({ isActive: true, endReason: null });
    });

    it('refuses an ended session for the reason it ended with', async () => {
      const { service, start } = setup();
      const { session, token } = await start();
      await service.end(session.id, 'logged_out');
      expect(await service.authenticate(token)).toEqual({ ok: false, reason: 'logged_out' });
    });

    it('writes last_activity at most once a minute (a quarter of the idle timeout if shorter)', async () => {
      const { service, start, clock, repo } = setup();
      const { session, token } = await start();
      clock.advance(59);
      await service.authenticate(token);
      expect(repo.touched).toEqual([]);
      clock.advance(1);
      const result = await service.authenticate(token);
      expect(repo.touched).toEqual([{ id: session.id, at: clock.now() }]);
      expect(result.ok && result.session.lastActivity).toEqual(clock.now());
      clock.advance(30);
      await service.authenticate(token);
      expect(repo.touched).toHaveLength(1);

      const short = setup({ sessionIdleTimeout: 120 });
      const other = await short.start();
      short.clock.advance(29);
      await short.service.authenticate(other.token);
      expect(short.repo.touched).toEqual([]);
      short.clock.advance(1);
      await short.service.authenticate(other.token);
      expect(short.repo.touched).toHaveLength(1);
    });
  });

  describe('start', () => {
    it('stores only the token hash, and starts the session with the password just proved', async () => {
      const { start, repo, clock, client } = setup();
      const { session, token } = await start({ credentialVersion: 4 });
      const row = repo.rows.get(session.id)!;
      expect(row.tokenHash).toBe(hashSessionToken(token, SECRET));
      expect(JSON.stringify(row)).not.toContain(token);
      expect(row).toMatchObject({
        isActive: true,
        loginTime: clock.now(),
        lastActivity: clock.now(),
        authTime: clock.now(),
        credentialVersion: 4,
        ipAddress: client.ipAddress,
        deviceBrowser: 'Firefox',
        country: 'FR',
      });
    });

    it('lasts REMEMBER_ME_TIMEOUT with remember_me, SESSION_TIMEOUT without (false or not sent)', async () => {
      const { start, clock, config } = setup();
      const at = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);
      expect((await start({ rememberMe: true })).session.expiresAt).toEqual(at(config.rememberMeTimeout));
      expect((await start({ rememberMe: false })).session.expiresAt).toEqual(at(config.sessionTimeout));
      expect((await start({ rememberMe: null })).session.expiresAt).toEqual(at(config.sessionTimeout));
    });

    it('keeps a given expiry (a replacement never outlives its predecessor)', async () => {
      const { start } = setup();
      const expiresAt = new Date('2030-01-01T05:00:00.000Z');
      const { session } = await start({ rememberMe: true, expiresAt });
      expect(session.expiresAt).toEqual(expiresAt);
    });

    it('cuts a user agent to the column length', async () => {
      const { service, user, options } = setup();
      const { session } = await service.start(user, { ipAddress: null, userAgent: 'x'.repeat(600) }, options(), TX);
      expect(session.userAgent).toHaveLength(512);
    });
  });

  describe('end', () => {
    it('ends an active session once, keeping the row and its reason', async () => {
      const { service, start, repo, clock } = setup();
      const { session } = await start();
      expect(await service.end(session.id, 'revoked')).toBe(true);
      expect(repo.rows.get(session.id)).toMatchObject({
        isActive: false,
        endReason: 'revoked',
        logoutTime: clock.now(),
      });
      expect(await service.end(session.id, 'logged_out')).toBe(false);
      expect(repo.rows.get(session.id)!.endReason).toBe('revoked');
    });
  });

  describe('enforceCap', () => {
    /** Sessions started a second apart, each last used when it started: the first is the least recently active. */
    async function started(s: ReturnType<typeof setup>, count: number): Promise<Session[]> {
      const sessions: Session[] = [];
      for (let i = 0; i < count; i++) {
        sessions.push((await s.start()).session);
        s.clock.advance(1);
      }
      return sessions;
    }

    it('revokes the least recently active sessions beyond the cap, inside the given transaction', async () => {
      const s = setup();
      const [a, b, c, d] = await started(s, 4);
      const { session: keep } = await s.start();
      s.repo.writesInTx.length = 0;
      expect(await s.service.enforceCap(s.user.id, keep.id, s.user.credentialVersion, 3, TX)).toBe(2);
      const state = (x: Session) => s.repo.rows.get(x.id)!;
      expect([a, b].map((x) => state(x).endReason)).toEqual(['revoked', 'revoked']);
      expect([c, d, keep].map((x) => state(x).isActive)).toEqual([true, true, true]);
      expect(new Set(s.repo.writesInTx)).toEqual(new Set(['activeByLastUse', 'end']));
    });

    it('counts by last activity, not by age, and never chooses keepId even when it is the least recently active', async () => {
      const s = setup();
      const [old, newer] = await started(s, 2);
      s.repo.rows.get(old.id)!.lastActivity = s.clock.now(); // the older session was used just now
      expect(await s.service.enforceCap(s.user.id, newer.id, s.user.credentialVersion, 1, TX)).toBe(1);
      expect(s.repo.rows.get(old.id)!.endReason).toBe('revoked');
      expect(s.repo.rows.get(newer.id)!.isActive).toBe(true);
    });

    it('ends expired, idle and stale sessions for their own reason, without counting them as revoked by the cap', async () => {
      const s = setup({ sessionIdleTimeout: HOUR });
      const [expired, idle, stale, fine] = await started(s, 4);
      s.repo.rows.get(expired.id)!.expiresAt = s.clock.now();
      s.repo.rows.get(idle.id)!.lastActivity = new Date(s.clock.now().getTime() - HOUR * 1000 - 1);
      s.repo.rows.get(stale.id)!.credentialVersion = s.user.credentialVersion - 1;
      const { session: keep } = await s.start();
      expect(await s.service.enforceCap(s.user.id, keep.id, s.user.credentialVersion, 2, TX)).toBe(0);
      const reasons = [expired, idle, stale].map((x) => s.repo.rows.get(x.id)!.endReason);
      expect(reasons).toEqual(['expired', 'idle_timeout', 'revoked']);
      expect(s.repo.rows.get(fine.id)!.isActive).toBe(true);
    });
  });

  describe('assertRecentAuth', () => {
    it('passes while the password is at most REAUTH_MAX_AGE old, and asks for it again one moment later', async () => {
      const { service, start, clock } = setup({ reauthMaxAge: 600 });
      const { session } = await start();
      clock.advance(600);
      expect(() => service.assertRecentAuth(session)).not.toThrow();
      const later = new Date(clock.now().getTime() + 1);
      let thrown: unknown;
      try {
        service.assertRecentAuth(session, later);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ForbiddenException);
      expect((thrown as ForbiddenException).getResponse()).toMatchObject({ reason: 'reauthentication_required' });
    });

    it('counts from the last POST /reauthenticate (markReauthenticated)', async () => {
      const { service, start, clock, repo } = setup({ reauthMaxAge: 600 });
      const { session } = await start();
      clock.advance(601);
      expect(() => service.assertRecentAuth(session)).toThrow(ForbiddenException);
      expect(await service.markReauthenticated(session)).toEqual(clock.now());
      expect(repo.rows.get(session.id)!.authTime).toEqual(clock.now());
      expect(() => service.assertRecentAuth(session)).not.toThrow();
    });
  });

  describe('endOwn', () => {
    it("gives one 404 for someone else's session, an unknown id and an ended one, before the password's age", async () => {
      const s = setup({ reauthMaxAge: 600 });
      const { session: current } = await s.start();
      const { session: ended } = await s.start();
      await s.service.end(ended.id, 'logged_out');
      const stranger = await s.service.start(
        Object.assign(new User(), { ...s.user, id: 8 }),
        s.client,
        s.options(),
        TX,
      );
      s.clock.advance(601);
      for (const id of [stranger.session.id, 999, ended.id])
        await expect(s.service.endOwn(current, id)).rejects.toThrow(NotFoundException);
    });

    it('logs out the current session, and revokes another only with a recent password', async () => {
      const s = setup({ reauthMaxAge: 600 });
      const { session: current } = await s.start();
      const { session: other } = await s.start();
      s.clock.advance(601);
      await expect(s.service.endOwn(current, other.id)).rejects.toThrow(ForbiddenException);
      expect(s.repo.rows.get(other.id)!.isActive).toBe(true);
      current.authTime = s.clock.now();
      await s.service.endOwn(current, other.id);
      expect(s.repo.rows.get(other.id)!.endReason).toBe('revoked');
      expect(s.events.sessionRevoked).toHaveBeenCalledWith(s.user.id, 'user', { sessionId: other.id });
      await s.service.endOwn(current, current.id);
      expect(s.repo.rows.get(current.id)!.endReason).toBe('logged_out');
      expect(s.events.logout).toHaveBeenCalledWith(s.user.id, current.id);
    });
  });

  describe('revokeOthers', () => {
    it("moves the account's credential version and the caller's session on, and ends the others, in one transaction", async () => {
      const s = setup();
      const { session: current } = await s.start();
      const { session: other } = await s.start();
      s.users.changeCredentials.mockResolvedValue(true);
      expect(await s.service.revokeOthers(current)).toBe(1);
      expect(s.users.changeCredentials).toHaveBeenCalledWith(
        s.user.id,
        { ifVersion: s.user.credentialVersion, whileSessionActive: current.id },
        TX,
      );
      expect(s.repo.rows.get(current.id)).toMatchObject({
        isActive: true,
        credentialVersion: s.user.credentialVersion + 1,
      });
      expect(current.credentialVersion).toBe(s.user.credentialVersion + 1);
      expect(s.repo.rows.get(other.id)!.endReason).toBe('revoked');
      expect(s.repo.writesInTx).toEqual(expect.arrayContaining(['advanceVersion', 'endActive']));
    });

    it('changes nothing and answers 409 when another credential change won the race', async () => {
      const s = setup();
      const { session: current } = await s.start();
      const { session: other } = await s.start();
      s.users.changeCredentials.mockResolvedValue(false);
      await expect(s.service.revokeOthers(current)).rejects.toThrow(ConflictException);
      expect(s.repo.rows.get(other.id)!.isActive).toBe(true);
      expect(current.credentialVersion).toBe(s.user.credentialVersion);
      expect(s.events.sessionRevoked).not.toHaveBeenCalled();
    });
  });

  describe('listUsable', () => {
    it('lists only active sessions within their time and born under the given credential version, newest first', async () => {
      const s = setup({ sessionIdleTimeout: HOUR });
      const { session: idle } = await s.start();
      s.clock.advance(10);
      const { session: stale } = await s.start({ credentialVersion: s.user.credentialVersion - 1 });
      const { session: a } = await s.start();
      s.clock.advance(10);
      const { session: b } = await s.start();
      s.repo.rows.get(idle.id)!.lastActivity = new Date(s.clock.now().getTime() - HOUR * 1000 - 1);
      const listed = await s.service.listUsable(s.user);
      expect(listed.map((x) => x.id)).toEqual([b.id, a.id]);
      expect(listed.map((x) => x.id)).not.toContain(stale.id);
    });
  });
});
