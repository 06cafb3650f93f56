import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { deleteInBatches, updateInBatches } from '../common/database/batches';
import { readFromReplica } from '../common/database/replica';
import type { ClientInfo } from '../sessions/sessions.service';
import { AttemptReason, LoginAttempt } from './login-attempt.entity';

/** /login_activity: the latest attempts of any kind… */
export const LOGIN_ACTIVITY_LIMIT = 50;
/** …and, whatever came after them, the latest successful sign-ins. */
export const LOGIN_ACTIVITY_SUCCESSES = 20;

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

  /**
   * What /login_activity lists: the latest LOGIN_ACTIVITY_LIMIT attempts on a user's account of any
   * kind, plus the latest LOGIN_ACTIVITY_SUCCESSES successful ones, each once, newest first. The
   * second query is why failures cannot hide a sign-in: a thief who signs in and then fails 50 times
   * on purpose still leaves the success in view. Two indexed reads, (user_id, id) and (user_id,
   * success, id), each of a bounded page; from the replica if there is one (may lag).
   */
  latestFor(userId: number): Promise<LoginAttempt[]> {
    return readFromReplica(this.attempts.manager.connection, async (manager) => {
      const latest = await manager.find(LoginAttempt, {
        where: { userId },
        order: { id: 'DESC' },
        take: LOGIN_ACTIVITY_LIMIT,
      });
      const successes = await manager.find(LoginAttempt, {
        where: { userId, success: true },
        order: { id: 'DESC' },
        take: LOGIN_ACTIVITY_SUCCESSES,
      });
      const byId = new Map([...latest, ...successes].map((attempt) => [attempt.id, attempt]));
      return [...byId.values()].sort((a, b) => b.id - a.id);
    });
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
