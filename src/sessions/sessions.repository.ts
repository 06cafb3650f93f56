import { Injectable, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository, type QueryResult } from 'typeorm';
import { deleteInBatches, updateInBatches } from '../common/database/batches';
import { readFromReplica } from '../common/database/replica';
import type { Transaction } from '../common/database/transactions';
import { Meter } from '../common/meter';
import type { User } from '../users/user.entity';
import { SessionLookup } from './session-lookup';
import type { TimeoutReason } from './session-rules';
import { EndReason, Session } from './session.entity';

/** A session's row as SessionsService.start decides it; the database assigns the id. */
export type NewSession = Omit<Session, 'id' | 'user'>;

/** Where a sign-in came from, as compared by `existsFrom`. */
export interface SignInOrigin {
  browser: string | null;
  os: string | null;
  country: string | null;
}

/** A session a statement ended (its id and owner), for the events and log lines that report it. */
export interface EndedSession {
  id: number;
  userId: number;
}

/**
 * The `sessions` table: every read and write of it, and nothing else. No rules here (which session
 * is usable, which to end and why, what to log: SessionsService); each write that races another is
 * one conditional statement (`is_active` still true, the version still the one read), and returns
 * whether or how many rows it changed, so the caller can tell the race it lost. Methods taking
 * `tx` run in that transaction when given one (Transactions.run), else on their own.
 */
@Injectable()
export class SessionsRepository {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly lookup: SessionLookup,
    @Optional() private readonly meter?: Meter,
  ) {}

  /** The guard's read: the session whose token hashes to `tokenHash`, with its user (SessionLookup). */
  findWithUser(tokenHash: string): Promise<{ session: Session; user: User } | undefined> {
    return this.lookup.byTokenHash(tokenHash);
  }

  /** The guard's activity write, on a session still active. */
  touch(sessionId: number, now: Date): Promise<void> {
    return this.lookup.touch(sessionId, now);
  }

  /** Inserts a session; returns it with its new id. */
  async insert(row: NewSession, tx: Transaction = this.sessions.manager): Promise<Session> {
    const session = tx.create(Session, row);
    await tx.insert(Session, session);
    this.meter?.sessionStarted();
    return session;
  }

  /**
   * Whether the user has a session row (active or ended, not yet deleted) from this browser,
   * operating system and country; nulls match nulls. One read on the (user_id, is_active) index.
   */
  existsFrom(userId: number, origin: SignInOrigin, tx: Transaction = this.sessions.manager): Promise<boolean> {
    return tx.exists(Session, {
      where: {
        userId,
        deviceBrowser: origin.browser ?? IsNull(),
        deviceOs: origin.os ?? IsNull(),
        country: origin.country ?? IsNull(),
      },
    });
  }

  /** Ends one session if it is still active; the session if this call ended it (else none). */
  end(sessionId: number, reason: EndReason, now: Date, tx: Transaction): Promise<EndedSession[]> {
    return this.endWhere('id = :sessionId', { sessionId }, reason, now, tx);
  }

  /** Ends every active session of the user; those it ended. */
  endActive(userId: number, reason: EndReason, now: Date, tx: Transaction): Promise<EndedSession[]> {
    return this.endWhere('user_id = :userId', { userId }, reason, now, tx);
  }

  /** Ends every active session of the user but `keepId`; those it ended. */
  endActiveExcept(
    userId: number,
    keepId: number,
    reason: EndReason,
    now: Date,
    tx: Transaction,
  ): Promise<EndedSession[]> {
    return this.endWhere('user_id = :userId AND id <> :keepId', { userId, keepId }, reason, now, tx);
  }

  /**
   * The one statement that ends sessions: those matching `where` that are still active (so each
   * row is ended once, with the reason of whoever got there first). RETURNING (PostgreSQL, SQLite
   * 3.35+) names exactly the rows this statement changed: the caller reports each of those ending
   * once, and none that another statement ended first. `tx` must be a transaction.
   */
  private async endWhere(
    where: string,
    parameters: Record<string, number>,
    reason: EndReason,
    now: Date,
    tx: Transaction,
  ): Promise<EndedSession[]> {
    const [sql, values] = tx
      .createQueryBuilder()
      .update(Session)
      .set({ isActive: false, logoutTime: now, endReason: reason })
      .where(`${where} AND is_active = :active`, { ...parameters, active: true })
      .getQueryAndParameters();
    const result = (await tx.queryRunner!.query(`${sql} RETURNING id, user_id`, values, true)) as QueryResult<{
      id: number;
      user_id: number;
    }>;
    const ended = (result.records ?? []).map((row) => ({ id: Number(row.id), userId: Number(row.user_id) }));
    // Counted when written; within a caller's transaction that later rolls back (rare), still counted.
    this.meter?.sessionsEnded(reason, ended.length);
    return ended;
  }

  /** The user's active sessions, most recently used first (the session cap's order). */
  activeByLastUse(userId: number, tx: Transaction = this.sessions.manager): Promise<Session[]> {
    return tx.find(Session, { where: { userId, isActive: true }, order: { lastActivity: 'DESC', id: 'DESC' } });
  }

  /**
   * The user's active sessions born under `credentialVersion`, newest first, from the read replica
   * if there is one. By user only: expiry is judged by the caller. With `expires_at > now` in the
   * SQL, SQLite (which has no statistics until ANALYZE) chose the (is_active, expires_at) index and
   * read every active session of every user: 30 ms a call at 100,000 sessions. Now the (user_id,
   * is_active) index is the only one that fits, whatever the planner knows (docs/PERFORMANCE.md).
   */
  listActive(userId: number, credentialVersion: number): Promise<Session[]> {
    return readFromReplica(this.sessions.manager.connection, (manager) =>
      manager.find(Session, {
        where: { userId, isActive: true, credentialVersion },
        order: { loginTime: 'DESC', id: 'DESC' },
      }),
    );
  }

  /** One active session of the user's, on the primary; null if it is not theirs, unknown or ended. */
  findActiveOf(userId: number, sessionId: number): Promise<Session | null> {
    return this.sessions.findOne({ where: { id: sessionId, userId, isActive: true } });
  }

  /**
   * Moves a session from credential version `from` to the next one, only while it is still active
   * at `from` (one statement); whether it moved.
   */
  async advanceVersion(sessionId: number, from: number, tx: Transaction = this.sessions.manager): Promise<boolean> {
    const result = await tx.update(
      Session,
      { id: sessionId, isActive: true, credentialVersion: from },
      { credentialVersion: from + 1 },
    );
    return (result.affected ?? 0) > 0;
  }

  /** Sets `auth_time` on a session still active. */
  async markAuthenticated(sessionId: number, at: Date): Promise<void> {
    await this.sessions.update({ id: sessionId, isActive: true }, { authTime: at });
  }

  /**
   * The cleanup job's ending: every active session due for `reason` at `now` (`expired`: past
   * `expires_at`; `idle_timeout`: unexpired and unused since before `idleSince`), in batches (see
   * updateInBatches: safe with several instances at once). `ended` gets the rows each statement
   * changed (each row once between all instances), in that statement's transaction. Returns how many it ended.
   */
  endDue(
    reason: TimeoutReason,
    now: Date,
    idleSince: Date,
    ended: (sessions: EndedSession[], tx: Transaction) => Promise<void>,
  ): Promise<number> {
    const due =
      reason === 'expired'
        ? (s: string) => `${s}expiresAt <= :now`
        : (s: string) => `${s}lastActivity < :idleSince AND ${s}expiresAt > :now`;
    return updateInBatches<Session, { id: number; user_id: number }>(
      this.sessions,
      { isActive: false, logoutTime: now, endReason: reason },
      (s) => `${s}isActive = :active AND ${due(s)}`,
      { active: true, now, idleSince },
      {
        returning: 'id, user_id',
        rows: (rows, tx) => {
          this.meter?.sessionsEnded(reason, rows.length);
          return ended(
            rows.map((row) => ({ id: Number(row.id), userId: Number(row.user_id) })),
            tx,
          );
        },
      },
    );
  }

  /** Deletes ended sessions whose `logout_time` is before `cutoff`; how many. */
  deleteEndedBefore(cutoff: Date): Promise<number> {
    return deleteInBatches(this.sessions, (s) => `${s}isActive = :inactive AND ${s}logoutTime < :cutoff`, {
      inactive: false,
      cutoff,
    });
  }

  /** Blanks `ip_address` on ended sessions whose `logout_time` is before `cutoff`; how many. */
  blankEndedIpsBefore(cutoff: Date): Promise<number> {
    return updateInBatches(
      this.sessions,
      { ipAddress: null },
      (s) => `${s}isActive = :inactive AND ${s}logoutTime < :cutoff AND ${s}ipAddress IS NOT NULL`,
      { inactive: false, cutoff },
    );
  }
}
