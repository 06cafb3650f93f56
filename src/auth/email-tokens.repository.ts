import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, MoreThanOrEqual, Repository } from 'typeorm';
import { deleteInBatches } from '../common/database/batches';
import type { Transaction } from '../common/database/transactions';
import { EmailToken, type EmailTokenPurpose } from './email-token.entity';

/**
 * The `email_tokens` table: every read and write of it. Which links are valid, for how long and
 * what using one does are EmailTokens' and RecoveryService's rules. Each write that can race is one
 * conditional statement that says how many rows it changed.
 */
@Injectable()
export class EmailTokensRepository {
  constructor(@InjectRepository(EmailToken) private readonly tokens: Repository<EmailToken>) {}

  async insert(row: Omit<EmailToken, 'id'>, tx: Transaction = this.tokens.manager): Promise<void> {
    await tx.insert(EmailToken, row);
  }

  /** The row with this hash, used or not; null if none. */
  findByHash(tokenHash: string, tx: Transaction = this.tokens.manager): Promise<EmailToken | null> {
    return tx.findOne(EmailToken, { where: { tokenHash } });
  }

  /**
   * Marks the token used, only if it is still unused and unexpired at `now` and has one of
   * `purposes`: one statement, so of two requests using one token exactly one changes the row (on
   * PostgreSQL the second waits for the first's row lock, then finds `used_at` set). Whether it did.
   */
  async consume(
    tokenHash: string,
    purposes: readonly EmailTokenPurpose[],
    now: Date,
    tx: Transaction = this.tokens.manager,
  ): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .update(EmailToken)
      .set({ usedAt: now })
      .where('token_hash = :tokenHash AND purpose IN (:...purposes) AND used_at IS NULL AND expires_at > :now', {
        tokenHash,
        purposes,
        now,
      })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Makes the user's unused tokens of these purposes void (`used_at` = now); how many. */
  async voidUnused(
    userId: number,
    purposes: readonly EmailTokenPurpose[],
    now: Date,
    tx: Transaction = this.tokens.manager,
  ): Promise<number> {
    const result = await tx.update(EmailToken, { userId, purpose: In(purposes), usedAt: IsNull() }, { usedAt: now });
    return result.affected ?? 0;
  }

  /** How many tokens of these purposes the user was sent since `since` (used and void ones included). */
  countSince(
    userId: number,
    purposes: readonly EmailTokenPurpose[],
    since: Date,
    tx: Transaction = this.tokens.manager,
  ): Promise<number> {
    return tx.count(EmailToken, { where: { userId, purpose: In(purposes), createdAt: MoreThanOrEqual(since) } });
  }

  /** The oldest creation time among those counted by countSince (for Retry-After), or null. */
  async oldestSince(
    userId: number,
    purposes: readonly EmailTokenPurpose[],
    since: Date,
    tx: Transaction = this.tokens.manager,
  ): Promise<Date | null> {
    const row = await tx.findOne(EmailToken, {
      where: { userId, purpose: In(purposes), createdAt: MoreThanOrEqual(since) },
      order: { createdAt: 'ASC' },
    });
    return row?.createdAt ?? null;
  }

  /** Deletes tokens that expired before `cutoff`, a batch per statement; how many. Conditional and idempotent. */
  deleteExpiredBefore(cutoff: Date): Promise<number> {
    return deleteInBatches(this.tokens, (t) => `${t}expiresAt < :cutoff`, { cutoff });
  }
}
