import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, type QueryResult } from 'typeorm';
import { AuthEvents } from './auth-events';
import { deleteInBatches, inBatches, type BatchCondition } from '../common/database/batches';
import { appConfig, type AppConfig } from '../config/app.config';
import type { TimeoutReason } from './session-rules';
import { Session } from './session.entity';

/**
 * The sessions half of the cleanup job (CleanupService schedules it): ends sessions whose time is
 * up and deletes long-ended ones, a batch per statement.
 *
 * Safe with several instances running it at once: every statement is conditional and idempotent.
 * Each repeats its condition in the outer WHERE as well as in the batch-picking subquery, so when
 * two instances pick the same rows, the second finds them already ended or deleted (PostgreSQL
 * re-checks the outer WHERE on a row another transaction changed; SQLite runs one writer at a
 * time) and touches nothing. Each row's work is done, and logged, exactly once.
 */
@Injectable()
export class SessionsCleanupService {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly events: AuthEvents,
  ) {}

  /**
   * Ends the active sessions past `expires_at` (reason `expired`) and, with an idle timeout set,
   * the unexpired ones unused for longer (reason `idle_timeout`): the reason the guard would give
   * at `now`, even while another instance runs the two passes in the other order.
   */
  async endTimedOut(now: Date): Promise<Record<TimeoutReason, number>> {
    const params = { now, idleSince: new Date(now.getTime() - this.config.sessionIdleTimeout * 1000) };
    const expired = await inBatches((size) => this.endBatch('expired', (s) => `${s}expiresAt <= :now`, params, size));
    const idleTimeout =
      this.config.sessionIdleTimeout > 0
        ? await inBatches((size) =>
            this.endBatch(
              'idle_timeout',
              (s) => `${s}lastActivity < :idleSince AND ${s}expiresAt > :now`,
              params,
              size,
            ),
          )
        : 0;
    return { expired, idle_timeout: idleTimeout };
  }

  /** Deletes ended sessions whose `logout_time` is before `cutoff`; returns how many. */
  deleteEndedBefore(cutoff: Date): Promise<number> {
    return deleteInBatches(this.sessions, (s) => `${s}isActive = :inactive AND ${s}logoutTime < :cutoff`, {
      inactive: false,
      cutoff,
    });
  }

  /**
   * Ends up to `size` active sessions matching `due` in one statement, and logs each one it ended.
   * RETURNING (SQLite 3.35+, PostgreSQL) tells exactly which rows this statement changed, so an
   * instance never logs a session that another one ended.
   */
  private async endBatch(
    reason: TimeoutReason,
    due: BatchCondition,
    params: { now: Date; idleSince: Date },
    size: number,
  ): Promise<number> {
    const condition: BatchCondition = (s) => `${s}isActive = :active AND ${due(s)}`;
    const [sql, parameters] = this.sessions
      .createQueryBuilder()
      .update(Session)
      .set({ isActive: false, logoutTime: params.now, endReason: reason })
      .where(`${condition('')} AND id IN (${this.pick(condition, size)})`, { active: true, ...params })
      .getQueryAndParameters();
    const ended = await this.rows<{ id: number; user_id: number }>(`${sql} RETURNING id, user_id`, parameters);
    for (const row of ended) this.events.sessionTimedOut(reason, row.user_id, row.id, 'cleanup');
    return ended.length;
  }

  /** A subquery picking the ids of up to `size` sessions matching `condition`, any order. */
  private pick(condition: BatchCondition, size: number): string {
    return this.sessions.createQueryBuilder('s').select('s.id').where(condition('s.')).limit(size).getQuery();
  }

  /** Runs a statement that returns rows (UPDATE ... RETURNING) the same way on both drivers. */
  private async rows<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    const runner = this.sessions.manager.connection.createQueryRunner();
    try {
      const result = (await runner.query(sql, parameters, true)) as QueryResult<T>;
      return result.records ?? [];
    } finally {
      await runner.release();
    }
  }
}
