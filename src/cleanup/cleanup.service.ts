import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { PinoLogger } from 'nestjs-pino';
import { EmailTokens } from '../auth/email-tokens.service';
import { LoginAttemptsService } from '../auth/login-attempts.service';
import { Clock } from '../common/clock';
import { WebauthnChallenges } from '../factors/webauthn-challenges.service';
import { appConfig, type AppConfig } from '../config/app.config';
import { Outbox } from '../mail/outbox.service';
import { SessionsService } from '../sessions/sessions.service';

export interface CleanupReport {
  sessions_expired: number;
  sessions_idle_timeout: number;
  sessions_deleted: number;
  login_attempts_deleted: number;
  /** Outbox rows sent or given up before RETENTION_DAYS (their payload was emptied then). */
  outbox_deleted: number;
  /** Mailed links (reset, verification) that expired more than RETENTION_DAYS ago, used or not. */
  email_tokens_deleted: number;
  /** Passkey challenges past their 2 minutes, used or not (worthless then, so no retention). */
  webauthn_challenges_deleted: number;
  /** IP_RETENTION_DAYS: ended sessions and login attempts whose ip_address was blanked (0 when off). */
  sessions_ip_blanked: number;
  login_attempts_ip_blanked: number;
}

const DAY_MS = 86_400_000;

/**
 * The scheduled cleanup: ends sessions whose time is up (the guard also ends them, but only when
 * one is presented again), then deletes ended sessions, login attempts, outbox rows sent or given
 * up and mailed links (expired) longer than RETENTION_DAYS ago, expired passkey challenges, and with IP_RETENTION_DAYS blanks
 * the addresses of older ended sessions and attempts. It lives in a module of its own, above auth,
 * sessions and mail, so that each table's owner keeps its SQL and dependencies still point one way.
 *
 * Several instances may run it at the same moment: every statement is conditional and idempotent
 * (see updateInBatches and deleteInBatches), so the work is done once between them. CLEANUP_INTERVAL_MINUTES=0
 * turns the schedule off, for instance on all but one instance; `run()` stays callable.
 */
@Injectable()
export class CleanupService implements OnApplicationBootstrap {
  private running = false;

  constructor(
    private readonly sessions: SessionsService,
    private readonly attempts: LoginAttemptsService,
    private readonly outbox: Outbox,
    private readonly emailTokens: EmailTokens,
    private readonly challenges: WebauthnChallenges,
    private readonly scheduler: SchedulerRegistry,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('Cleanup');
  }

  onApplicationBootstrap(): void {
    if (this.config.cleanupIntervalMinutes === 0) return;
    const timer = setInterval(() => void this.runScheduled(), this.config.cleanupIntervalMinutes * 60_000);
    // Never what keeps the process alive; ScheduleModule clears it when the app closes.
    timer.unref();
    this.scheduler.addInterval('cleanup', timer);
  }

  /** One pass, logged as one `cleanup` line with its counts. Public so tests can run it directly. */
  async run(): Promise<CleanupReport> {
    const started = Date.now();
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const ended = await this.sessions.endAllTimedOut(now);
    const report: CleanupReport = {
      sessions_expired: ended.expired,
      sessions_idle_timeout: ended.idle_timeout,
      sessions_deleted: await this.sessions.deleteEndedBefore(cutoff),
      login_attempts_deleted: await this.attempts.deleteOlderThan(cutoff),
      outbox_deleted: await this.outbox.deleteFinishedBefore(cutoff),
      email_tokens_deleted: await this.emailTokens.deleteExpiredBefore(cutoff),
      webauthn_challenges_deleted: await this.challenges.deleteExpiredBefore(now),
      sessions_ip_blanked: 0,
      login_attempts_ip_blanked: 0,
    };
    // After the deletions, so rows about to go are not rewritten first.
    if (this.config.ipRetentionDays > 0) {
      const ipCutoff = new Date(now.getTime() - this.config.ipRetentionDays * DAY_MS);
      report.sessions_ip_blanked = await this.sessions.blankEndedIpsBefore(ipCutoff);
      report.login_attempts_ip_blanked = await this.attempts.blankIpsBefore(ipCutoff);
    }
    this.logger.info(
      {
        event: 'cleanup',
        ...report,
        retention_days: this.config.retentionDays,
        ip_retention_days: this.config.ipRetentionDays,
        duration_ms: Date.now() - started,
      },
      'cleanup',
    );
    return report;
  }

  /** A timer tick: skipped while the previous pass still runs; a failure is logged, never thrown. */
  private async runScheduled(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.run();
    } catch (error) {
      // Class and code only: a driver's message can quote the SQL and its parameters.
      const { name, code } = (error ?? {}) as { name?: string; code?: string };
      this.logger.error({ event: 'cleanup_failed', error: name ?? typeof error, code }, 'cleanup failed');
    } finally {
      this.running = false;
    }
  }
}
