import { Injectable, Optional } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Transaction } from '../common/database/transactions';
import { Meter } from '../common/meter';
import type { ClientInfo } from '../sessions/sessions.service';
import type { AttemptReason, LoginAttempt } from './login-attempt.entity';
import { LoginAttemptsRepository } from './login-attempts.repository';

/** /login_activity: the latest attempts of any kind… */
export const LOGIN_ACTIVITY_LIMIT = 50;
/** …and, whatever came after them, the latest successful sign-ins. */
export const LOGIN_ACTIVITY_SUCCESSES = 20;

@Injectable()
export class LoginAttemptsService {
  constructor(
    private readonly attempts: LoginAttemptsRepository,
    private readonly clock: Clock,
    @Optional() private readonly meter?: Meter,
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
    tx?: Transaction,
  ): Promise<void> {
    await this.attempts.insert(
      {
        attemptedAt: this.clock.now(),
        userId: attempt.userId,
        email: attempt.email.slice(0, 254),
        ipAddress: attempt.client.ipAddress,
        userAgent: attempt.client.userAgent?.slice(0, 512) ?? null,
        success: attempt.reason === 'ok',
        reason: attempt.reason,
        country: attempt.country,
        newDevice: attempt.newDevice ?? false,
      },
      tx,
    );
    // Counted once written (inside the caller's transaction: one that rolls back afterwards, rare, still counts).
    this.meter?.signIn(attempt.reason);
  }

  /**
   * What /login_activity lists: the latest LOGIN_ACTIVITY_LIMIT attempts on a user's account of any
   * kind, plus the latest LOGIN_ACTIVITY_SUCCESSES successful ones, each once, newest first. The
   * second read is why failures cannot hide a sign-in: a thief who signs in and then fails 50 times
   * on purpose still leaves the success in view. From the replica if there is one (may lag).
   */
  async latestFor(userId: number): Promise<LoginAttempt[]> {
    const { latest, successes } = await this.attempts.latestOf(userId, LOGIN_ACTIVITY_LIMIT, LOGIN_ACTIVITY_SUCCESSES);
    const byId = new Map([...latest, ...successes].map((attempt) => [attempt.id, attempt]));
    return [...byId.values()].sort((a, b) => b.id - a.id);
  }

  /**
   * Deletes attempts made before `cutoff` (the cleanup job's retention), a batch per statement;
   * returns how many. Conditional and idempotent, so instances running it at once delete each row
   * once between them.
   */
  deleteOlderThan(cutoff: Date): Promise<number> {
    return this.attempts.deleteOlderThan(cutoff);
  }

  /**
   * The cleanup job's IP retention: blanks `ip_address` on attempts made before `cutoff`, keeping
   * the country; returns how many. Conditional, like deleteOlderThan.
   */
  blankIpsBefore(cutoff: Date): Promise<number> {
    return this.attempts.blankIpsBefore(cutoff);
  }
}
