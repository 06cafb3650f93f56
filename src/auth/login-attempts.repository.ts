import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { deleteInBatches, updateInBatches } from '../common/database/batches';
import { readFromReplica } from '../common/database/replica';
import type { Transaction } from '../common/database/transactions';
import { LoginAttempt } from './login-attempt.entity';

/**
 * The `login_attempts` table: every read and write of it. What is recorded and what
 * /login_activity shows are LoginAttemptsService's rules. `insert` runs in `tx` when given one
 * (the login's transaction), else on its own.
 */
@Injectable()
export class LoginAttemptsRepository {
  constructor(@InjectRepository(LoginAttempt) private readonly attempts: Repository<LoginAttempt>) {}

  async insert(row: Omit<LoginAttempt, 'id'>, tx: Transaction = this.attempts.manager): Promise<void> {
    await tx.insert(LoginAttempt, row);
  }

  /**
   * The user's latest `limit` attempts of any kind and latest `successes` successful ones, each
   * newest first: two indexed reads, (user_id, id) and (user_id, success, id), each of a bounded
   * page; from the read replica if there is one (may lag).
   */
  latestOf(
    userId: number,
    limit: number,
    successes: number,
  ): Promise<{ latest: LoginAttempt[]; successes: LoginAttempt[] }> {
    return readFromReplica(this.attempts.manager.connection, async (manager) => ({
      latest: await manager.find(LoginAttempt, { where: { userId }, order: { id: 'DESC' }, take: limit }),
      successes: await manager.find(LoginAttempt, {
        where: { userId, success: true },
        order: { id: 'DESC' },
        take: successes,
      }),
    }));
  }

  /**
   * Deletes attempts made before `cutoff`, a batch per statement; how many. Conditional and
   * idempotent, so instances running it at once delete each row once between them.
   */
  deleteOlderThan(cutoff: Date): Promise<number> {
    return deleteInBatches(this.attempts, (a) => `${a}attemptedAt < :cutoff`, { cutoff });
  }

  /** Blanks `ip_address` on attempts made before `cutoff`; how many. Conditional, like deleteOlderThan. */
  blankIpsBefore(cutoff: Date): Promise<number> {
    return updateInBatches(
      this.attempts,
      { ipAddress: null },
      (a) => `${a}attemptedAt < :cutoff AND ${a}ipAddress IS NOT NULL`,
      { cutoff },
    );
  }
}
