import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app.config';
import { AuthEvents } from './auth-events';
import { Clock } from '../common/clock';
import { Transactions, type Transaction } from '../common/database/transactions';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { credentialsChanged } from '../common/http-error';
import type { Device } from './device';
import { activityWriteInterval, credentialsChangedSince, judgeSession, type TimeoutReason } from './session-rules';
import { reauthenticationRequired } from './recent-auth';
import { generateSessionToken, hashSessionToken, isWellFormedToken } from './session-token';
import type { AuthMethod, EndReason, Session } from './session.entity';
import { LifecycleEvents, sessionKey } from './lifecycle-events';
import { SessionsRepository, type EndedSession } from './sessions.repository';

export type AuthFailureReason = EndReason | 'invalid';

export type Authentication = { ok: true; user: User; session: Session } | { ok: false; reason: AuthFailureReason };

export interface ClientInfo {
  ipAddress: string | null;
  userAgent: string | null;
}

/** Where a login comes from: the device parsed from its user agent and its address's country. */
export interface ClientOrigin {
  device: Device;
  country: string | null;
}

/** How a new session is started, beyond its owner and client. */
export interface SessionOptions {
  /** The login's remember_me (null when not sent): true gives REMEMBER_ME_TIMEOUT, else SESSION_TIMEOUT. */
  rememberMe: boolean | null;
  origin: ClientOrigin;
  /** The new-sign-in flag (hasSignedInFrom); false for a session that replaces another. */
  newDevice: boolean;
  /** A fixed expiry instead of one counted from now (a replacement keeps its predecessor's). */
  expiresAt?: Date;
  /**
   * The user's credential_version the session is born under: for a login, the one read with the
   * hash it checked (not a fresh read); for a password change's replacement, the version it moved to.
   */
  credentialVersion: number;
  /** How the owner proved who they are; a password alone when not given. */
  authMethods?: readonly AuthMethod[];
}

@Injectable()
export class SessionsService {
  private readonly activityInterval: number;
  /**
   * SECRET_KEY's bytes, encoded once: the guard hashes a token on every request. A Buffer, not a
   * KeyObject: Node's HMAC starts about 1.5 µs faster from one (measured, docs/PERFORMANCE.md).
   */
  private readonly tokenKey: Buffer;

  constructor(
    private readonly sessions: SessionsRepository,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly events: AuthEvents,
    private readonly users: UsersService,
    private readonly transactions: Transactions,
    private readonly lifecycle: LifecycleEvents,
  ) {
    this.activityInterval = activityWriteInterval(config.sessionIdleTimeout);
    this.tokenKey = Buffer.from(config.secretKey, 'utf8');
  }

  /**
   * Resolves a raw token to its session and user, enforcing expiry, idle timeout, the user's status
   * and credential version. One indexed read per request (the session and its user together, so
   * both versions come from one snapshot), plus a coalesced activity write.
   */
  async authenticate(token: string): Promise<Authentication> {
    if (!isWellFormedToken(token)) return { ok: false, reason: 'invalid' };
    const found = await this.sessions.findWithUser(hashSessionToken(token, this.tokenKey));
    if (!found) return { ok: false, reason: 'invalid' };
    const { session, user } = found;

    const now = this.clock.now();
    const verdict = judgeSession(session, now, this.config.sessionIdleTimeout);
    if (!verdict.ok) {
      if (verdict.endNow) await this.endTimedOut(session, verdict.reason, now);
      return { ok: false, reason: verdict.reason };
    }
    if (!user.isActive) {
      // A disabled account's sessions are terminated, not just refused: re-enabling the account
      // does not bring them back (ASVS V7.4.2). UsersService.deactivate ends them all at once.
      await this.end(session.id, 'account_disabled', now);
      return { ok: false, reason: 'account_disabled' };
    }
    if (credentialsChangedSince(session, user)) {
      // Born before a credential change that did not end it itself: a login that raced a password
      // change, a disable (even one undone since), an "end all". Reason `revoked`: which change it
      // was is not recorded, and a disabled account got `account_disabled` above. Refused, not
      // ended: versions only go up, so it never works again anyway, and on SQLite (where TypeORM
      // runs everything on one connection, so a transaction's writes are seen before it commits) a
      // request between an "end all"'s two writes would otherwise end the caller's own session.
      // Lists leave such rows out; the session cap ends them, and the cleanup job once expired.
      return { ok: false, reason: 'revoked' };
    }

    if (now.getTime() - session.lastActivity.getTime() >= this.activityInterval) {
      await this.sessions.touch(session.id, now);
      session.lastActivity = now;
    }
    return { ok: true, user, session };
  }

  /** Starts a session for a user; returns it with the raw token, which is never stored. */
  async start(
    user: User,
    client: ClientInfo,
    options: SessionOptions,
    tx: Transaction,
  ): Promise<{ session: Session; token: string }> {
    const now = this.clock.now();
    const lifetime = options.rememberMe === true ? this.config.rememberMeTimeout : this.config.sessionTimeout;
    const { device, country } = options.origin;
    const token = generateSessionToken();
    const session = await this.sessions.insert(
      {
        userId: user.id,
        tokenHash: hashSessionToken(token, this.tokenKey),
        ipAddress: client.ipAddress,
        userAgent: client.userAgent?.slice(0, 512) ?? null,
        loginTime: now,
        lastActivity: now,
        logoutTime: null,
        isActive: true,
        expiresAt: options.expiresAt ?? new Date(now.getTime() + lifetime * 1000),
        endReason: null,
        rememberMe: options.rememberMe,
        deviceBrowser: device.browser,
        deviceOs: device.os,
        deviceType: device.type,
        country,
        newDevice: options.newDevice,
        // Every session starts with its owner's identity just proved (a sign-in or a password change).
        authTime: now,
        credentialVersion: options.credentialVersion,
        authMethods: (options.authMethods ?? ['pwd']).join(' '),
      },
      tx,
    );
    await this.lifecycle.emit(
      'session.created',
      {
        session_id: session.id,
        user_id: session.userId,
        created_at: now.toISOString(),
        expires_at: session.expiresAt.toISOString(),
      },
      sessionKey(session.id),
      tx,
    );
    return { session, token };
  }

  /**
   * Whether the user has a session row (active or ended, not yet deleted by the cleanup job) from
   * this browser, operating system and country; nulls match nulls (an unknown browser is the same
   * unknown browser). One read on the (user_id, is_active) index.
   */
  hasSignedInFrom(userId: number, origin: ClientOrigin, tx?: Transaction): Promise<boolean> {
    const { device, country } = origin;
    return this.sessions.existsFrom(userId, { browser: device.browser, os: device.os, country }, tx);
  }

  /**
   * Marks one session ended, keeping the row so /session_status can tell why; whether this call
   * ended it. In `tx` if given, else in a transaction of its own (the event commits with it).
   */
  async end(sessionId: number, reason: EndReason, now = this.clock.now(), tx?: Transaction): Promise<boolean> {
    return (await this.inTransaction(tx, (t) => this.sessions.end(sessionId, reason, now, t), reason, now)) > 0;
  }

  /** Ends every active session of the user; returns how many ended. */
  endAll(userId: number, reason: EndReason, tx?: Transaction): Promise<number> {
    const now = this.clock.now();
    return this.inTransaction(tx, (t) => this.sessions.endActive(userId, reason, now, t), reason, now);
  }

  /**
   * Carries the session across a credential change made in `tx` (the account's version moved from
   * `from` to the next), only while it is still active at `from`: a session that was already stale
   * stays stale. Whether it moved.
   */
  keepAcrossCredentialChange(sessionId: number, from: number, tx: Transaction): Promise<boolean> {
    return this.sessions.advanceVersion(sessionId, from, tx);
  }

  /** Ends every active session of the user but `keepId`; returns how many ended. */
  endOthers(userId: number, keepId: number, reason: EndReason, tx?: Transaction): Promise<number> {
    const now = this.clock.now();
    return this.inTransaction(tx, (t) => this.sessions.endActiveExcept(userId, keepId, reason, now, t), reason, now);
  }

  /**
   * Runs an ending in `tx` (or a transaction of its own) and emits `session.ended` for each session
   * that statement ended, in the same transaction; how many it ended.
   */
  private inTransaction(
    tx: Transaction | undefined,
    ending: (tx: Transaction) => Promise<EndedSession[]>,
    reason: EndReason,
    now: Date,
  ): Promise<number> {
    const work = async (t: Transaction) => {
      const ended = await ending(t);
      await this.emitEnded(ended, reason, now, t);
      return ended.length;
    };
    return tx ? work(tx) : this.transactions.run(work);
  }

  private async emitEnded(ended: EndedSession[], reason: EndReason, now: Date, tx: Transaction): Promise<void> {
    for (const { id, userId } of ended)
      await this.lifecycle.emit(
        'session.ended',
        { session_id: id, user_id: userId, reason, ended_at: now.toISOString() },
        sessionKey(id),
        tx,
      );
  }

  /**
   * Keeps at most `cap` usable sessions for the user, ending the least recently active others
   * (reason `revoked`; `keepId` is never chosen). Active rows already past their expiry or idle
   * limit are ended for that reason on the way, and so are those born under another credential
   * version than `credentialVersion` (the login's): the guard would refuse them (reason `revoked`).
   * Run inside the login transaction, after a write to the user's row, so concurrent logins of one
   * user take turns and never exceed the cap.
   */
  async enforceCap(
    userId: number,
    keepId: number,
    credentialVersion: number,
    cap: number,
    tx: Transaction,
  ): Promise<number> {
    const now = this.clock.now();
    const active = await this.sessions.activeByLastUse(userId, tx);
    let kept = 1; // keepId
    let revoked = 0;
    for (const session of active) {
      if (session.id === keepId) continue;
      const verdict = judgeSession(session, now, this.config.sessionIdleTimeout);
      if (!verdict.ok) await this.end(session.id, verdict.reason, now, tx);
      else if (credentialsChangedSince(session, { credentialVersion })) await this.end(session.id, 'revoked', now, tx);
      else if (kept < cap) kept++;
      else if (await this.end(session.id, 'revoked', now, tx)) revoked++;
    }
    return revoked;
  }

  /**
   * The user's sessions that can still be used, newest first. Read from the replica if there is
   * one, so a session started or ended a moment ago may be missing or still listed; ending it is
   * decided on the primary (endOwn), and a session ended there is refused at once by the guard.
   * `user.credentialVersion` is the user's as the caller read it: sessions born under another one
   * are not usable, even while still marked active (a login that raced a credential change).
   */
  async listUsable(user: Pick<User, 'id' | 'credentialVersion'>): Promise<Session[]> {
    const { id: userId, credentialVersion } = user;
    const now = this.clock.now();
    // Expiry is judged here, not in the SQL: see SessionsRepository.listActive for why.
    const sessions = await this.sessions.listActive(userId, credentialVersion);
    return sessions.filter((s) => judgeSession(s, now, this.config.sessionIdleTimeout).ok);
  }

  async countUsable(user: Pick<User, 'id' | 'credentialVersion'>): Promise<number> {
    return (await this.listUsable(user)).length;
  }

  /**
   * Ends one of the caller's own sessions: the current one is a logout (reason `logged_out`),
   * another is revoked (reason `revoked`) and needs a recent password (403 otherwise). Someone
   * else's session, an unknown id and an ended session all give the same 404, checked before the
   * password's age, so ids reveal nothing even to a caller who would get the 403.
   */
  async endOwn(current: Session, sessionId: number): Promise<void> {
    const { userId } = current;
    const isCurrent = sessionId === current.id;
    const now = this.clock.now();
    const session = await this.sessions.findActiveOf(userId, sessionId);
    const verdict = session ? judgeSession(session, now, this.config.sessionIdleTimeout) : undefined;
    // A session already past its expiry or idle limit is not in the list, so it is not found here
    // either; it is recorded as ended for the reason it really ended.
    if (session && verdict && !verdict.ok && verdict.endNow) await this.endTimedOut(session, verdict.reason, now);
    if (!session || !verdict?.ok) throw new NotFoundException('Session not found');
    if (!isCurrent) this.assertRecentAuth(current, now);
    if (!(await this.end(session.id, isCurrent ? 'logged_out' : 'revoked', now)))
      throw new NotFoundException('Session not found');
    if (isCurrent) this.events.logout(userId, sessionId);
    else this.events.sessionRevoked(userId, 'user', { sessionId });
  }

  /**
   * DELETE /active_sessions: ends all of the caller's sessions but the current one (reason
   * `revoked`); needs a recent password. A credential change (UsersService.changeCredentials): the
   * account's version moves on and the caller's session moves with it in the same transaction, so
   * a session from a login still in flight is stale once this commits. Only if the account is still
   * at the version of the caller's session and that session is still active: otherwise another
   * change won the race, this one does nothing and answers 409.
   */
  async revokeOthers(current: Session): Promise<number> {
    this.assertRecentAuth(current);
    const version = current.credentialVersion;
    const revoked = await this.transactions.run(async (tx) => {
      const changed = await this.users.changeCredentials(
        current.userId,
        { ifVersion: version, whileSessionActive: current.id },
        tx,
      );
      // Nothing written yet: returning (not throwing) leaves nothing to roll back.
      if (!changed) return undefined;
      await this.sessions.advanceVersion(current.id, version, tx);
      return this.endOthers(current.userId, current.id, 'revoked', tx);
    });
    if (revoked === undefined) throw credentialsChanged();
    current.credentialVersion = version + 1;
    if (revoked > 0) this.events.sessionRevoked(current.userId, 'user', { count: revoked });
    return revoked;
  }

  /**
   * Refuses (403 `reauthentication_required`) unless the session's owner proved the password
   * (login, password change or POST /reauthenticate) at most REAUTH_MAX_AGE seconds ago. A stolen
   * session cookie alone then cannot lock the owner out of their other devices or act as an admin.
   */
  assertRecentAuth(session: Session, now = this.clock.now()): void {
    if (now.getTime() - session.authTime.getTime() > this.config.reauthMaxAge * 1000) throw reauthenticationRequired();
  }

  /** Records that the session's owner proved the password just now (POST /reauthenticate); returns that time. */
  async markReauthenticated(session: Session): Promise<Date> {
    const now = this.clock.now();
    await this.sessions.markAuthenticated(session.id, now);
    session.authTime = now;
    return now;
  }

  /**
   * The cleanup job's pass: ends the active sessions past `expires_at` (reason `expired`) and, with
   * an idle timeout set, the unexpired ones unused for longer (reason `idle_timeout`): the reason
   * the guard would give at `now`, even while another instance runs the two passes in the other
   * order. Safe with several instances at once (see updateInBatches); each row is logged once.
   */
  async endAllTimedOut(now: Date): Promise<Record<TimeoutReason, number>> {
    const idleSince = new Date(now.getTime() - this.config.sessionIdleTimeout * 1000);
    const endDue = (reason: TimeoutReason) =>
      this.sessions.endDue(reason, now, idleSince, async (ended, tx) => {
        await this.emitEnded(ended, reason, now, tx);
        ended.forEach((s) => this.events.sessionTimedOut(reason, s.userId, s.id, 'cleanup'));
      });
    const expired = await endDue('expired');
    const idleTimeout = this.config.sessionIdleTimeout > 0 ? await endDue('idle_timeout') : 0;
    return { expired, idle_timeout: idleTimeout };
  }

  /** The cleanup job's deletion: ended sessions whose `logout_time` is before `cutoff`; returns how many. */
  deleteEndedBefore(cutoff: Date): Promise<number> {
    return this.sessions.deleteEndedBefore(cutoff);
  }

  /**
   * The cleanup job's IP retention: blanks `ip_address` on ended sessions whose `logout_time` is
   * before `cutoff` (the country and the rest of the row stay); returns how many.
   */
  blankEndedIpsBefore(cutoff: Date): Promise<number> {
    return this.sessions.blankEndedIpsBefore(cutoff);
  }

  /** Records a session found past its time, and logs it if this call was the one that ended it. */
  private async endTimedOut(session: Session, reason: TimeoutReason, now: Date): Promise<void> {
    if (await this.end(session.id, reason, now))
      this.events.sessionTimedOut(reason, session.userId, session.id, 'request');
  }
}
