import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Transaction } from '../common/database/transactions';
import { appConfig, type AppConfig } from '../config/app.config';
import type { User } from '../users/user.entity';
import type { EmailToken, EmailTokenPurpose } from './email-token.entity';
import { EMAIL_TOKEN_PATTERN, emailTokenKey, generateEmailToken, hashEmailToken } from './email-tokens';
import { EmailTokensRepository } from './email-tokens.repository';

/** Links of one purpose an account may be sent per hour (counted from the rows, used or not). */
export const MAIL_TOKENS_PER_HOUR = 3;
const HOUR_MS = 3_600_000;

/**
 * The single-use links sent by mail: a password reset, an address to verify, a new address to
 * confirm. A token is 256 random bits; the table holds only its keyed hash (email-tokens.ts).
 *
 * - Issuing one makes the account's older unused links of that purpose void: only the newest works.
 * - Using one is a single conditional UPDATE (EmailTokensRepository.consume), run inside the
 *   transaction of the change it allows: the change and the use commit together or not at all, and
 *   of two requests with one token exactly one gets the row.
 * - Rows are kept after use so that `sentRecently` can count the links of the last hour; the
 *   cleanup job deletes them RETENTION_DAYS after they expire.
 */
@Injectable()
export class EmailTokens {
  private readonly key: Buffer;

  constructor(
    private readonly tokens: EmailTokensRepository,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    this.key = emailTokenKey(config.secretKey);
  }

  /** Seconds a link of this purpose is valid (PASSWORD_RESET_TIMEOUT, EMAIL_VERIFICATION_TIMEOUT). */
  lifetime(purpose: EmailTokenPurpose): number {
    return purpose === 'reset_password' ? this.config.passwordResetTimeout : this.config.emailVerificationTimeout;
  }

  /**
   * A new token for `user`, sent to (and naming) `email`, in `tx` (the transaction that also
   * queues its mail); the user's older unused tokens of that purpose become void. Returns the raw
   * token, which goes into the mail and nowhere else.
   */
  async issue(
    user: Pick<User, 'id' | 'credentialVersion'>,
    purpose: EmailTokenPurpose,
    email: string,
    tx: Transaction,
  ): Promise<string> {
    const now = this.clock.now();
    await this.tokens.voidUnused(user.id, [purpose], now, tx);
    const token = generateEmailToken();
    await this.tokens.insert(
      {
        userId: user.id,
        purpose,
        email,
        tokenHash: hashEmailToken(token, this.key),
        credentialVersion: user.credentialVersion,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.lifetime(purpose) * 1000),
        usedAt: null,
      },
      tx,
    );
    return token;
  }

  /**
   * The token's row if it is one of ours, of one of `purposes`, unused and unexpired now; else null.
   * A read, for what the change needs to know (whose, which address): only `consume` decides.
   */
  async findUsable(
    token: string,
    purposes: readonly EmailTokenPurpose[],
    tx?: Transaction,
  ): Promise<EmailToken | null> {
    if (!EMAIL_TOKEN_PATTERN.test(token)) return null;
    const row = await this.tokens.findByHash(hashEmailToken(token, this.key), tx);
    if (!row || !purposes.includes(row.purpose) || row.usedAt !== null) return null;
    return row.expiresAt.getTime() > this.clock.now().getTime() ? row : null;
  }

  /** Uses the token, in `tx` (the change's transaction); false if it is no longer usable (used, void, expired). */
  consume(token: string, purposes: readonly EmailTokenPurpose[], tx: Transaction): Promise<boolean> {
    return this.tokens.consume(hashEmailToken(token, this.key), purposes, this.clock.now(), tx);
  }

  /** Makes every unused token of the user with these purposes void, in `tx`. */
  voidUnused(userId: number, purposes: readonly EmailTokenPurpose[], tx: Transaction): Promise<number> {
    return this.tokens.voidUnused(userId, purposes, this.clock.now(), tx);
  }

  /**
   * Whether the account was sent MAIL_TOKENS_PER_HOUR links of these purposes within the last hour,
   * and if so the seconds until the oldest of them leaves that hour (null: not reached). Read in `tx`
   * after locking the user's row (UsersService.lock), so concurrent requests count each other.
   */
  async capReached(userId: number, purposes: readonly EmailTokenPurpose[], tx: Transaction): Promise<number | null> {
    const now = this.clock.now().getTime();
    const since = new Date(now - HOUR_MS);
    if ((await this.tokens.countSince(userId, purposes, since, tx)) < MAIL_TOKENS_PER_HOUR) return null;
    const oldest = (await this.tokens.oldestSince(userId, purposes, since, tx))?.getTime() ?? now;
    return Math.max(1, Math.ceil((oldest + HOUR_MS - now) / 1000));
  }

  /** The cleanup job's deletion: tokens that expired before `cutoff`; how many. */
  deleteExpiredBefore(cutoff: Date): Promise<number> {
    return this.tokens.deleteExpiredBefore(cutoff);
  }
}
