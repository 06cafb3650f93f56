import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { deleteInBatches, updateInBatches } from '../common/database/batches';
import { readFromReplica } from '../common/database/replica';
import type { ClientInfo } from '../sessions/sessions.service';
import { AttemptReason, LoginAttempt } from './login-attempt.entity';

export const LOGIN_ACTIVITY_LIMIT = 50;

@Injectable()
export class LoginAttemptsService {
  constructor(
    @InjectRepository(LoginAttempt) private readonly attempts: Repository<LoginAttempt>,
    private readonly clock: Clock,
  ) {}

  async record(
    attempt: {
      email: string;
      userId: number | null;
      reason: AttemptReason;
      client: ClientInfo;
      country: string | null;
      newDevice?: boolean;
    },
    manager: EntityManager = this.attempts.manager,
  ): Promise<void> {
    await manager.insert(LoginAttempt, {
      attemptedAt: this.clock.now(),
      userId: attempt.userId,
      email: attempt.email.slice(0, 254),
      ipAddress: attempt.client.ipAddress,
      userAgent: attempt.client.userAgent?.slice(0, 512) ?? null,
      success: attempt.reason === 'ok',
      reason: attempt.reason,
      country: attempt.country,
      newDevice: attempt.newDevice ?? false,
    });
  }

  /** The latest attempts on a user's account, newest first; from the replica if there is one (may lag). */
  latestFor(userId: number): Promise<LoginAttempt[]> {
    return readFromReplica(this.attempts.manager.connection, (manager) =>
      manager.find(LoginAttempt, { where: { userId }, order: { id: 'DESC' }, take: LOGIN_ACTIVITY_LIMIT }),
    );
  }

  /**
   * Deletes attempts made before `cutoff` (the cleanup job's retention), a batch per statement;
   * returns how many. Conditional and idempotent, so instances running it at once delete each row
   * once between them.
   */
  deleteOlderThan(cutoff: Date): Promise<number> {
    return deleteInBatches(this.attempts, (a) => `${a}attemptedAt < :cutoff`, { cutoff });
  }

  /**
   * The cleanup job's IP retention: blanks `ip_address` on attempts made before `cutoff`, keeping
   * the country; returns how many. Conditional, like deleteOlderThan.
   */
  blankIpsBefore(cutoff: Date): Promise<number> {
    return updateInBatches(
      this.attempts,
      { ipAddress: null },
      (a) => `${a}attemptedAt < :cutoff AND ${a}ipAddress IS NOT NULL`,
      { cutoff },
    );
  }
}
