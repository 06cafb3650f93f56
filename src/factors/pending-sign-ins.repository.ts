import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { deleteInBatches } from '../common/database/batches';
import type { Transaction } from '../common/database/transactions';
import { PendingSignIn } from './pending-sign-in.entity';

/**
 * The `pending_sign_ins` table. What a pending sign-in allows is PendingSignIns' rule; every write
 * that can race is one conditional statement that says whether it changed the row.
 */
@Injectable()
export class PendingSignInsRepository {
  constructor(@InjectRepository(PendingSignIn) private readonly rows: Repository<PendingSignIn>) {}

  async insert(row: Omit<PendingSignIn, 'id' | 'user'>, tx: Transaction = this.rows.manager): Promise<void> {
    await tx.insert(PendingSignIn, row);
  }

  findByHash(tokenHash: string, tx: Transaction = this.rows.manager): Promise<PendingSignIn | null> {
    return tx.findOne(PendingSignIn, { where: { tokenHash } });
  }

  /**
   * Counts one more code tried, only while the row is unused, unexpired at `now` and has tried
   * fewer than `max`: so at most `max` codes are ever checked against one pending sign-in, however
   * many requests race. Whether it did.
   */
  async countAttempt(id: number, max: number, now: Date, tx: Transaction = this.rows.manager): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .update(PendingSignIn)
      .set({ attempts: () => 'attempts + 1' })
      .where('id = :id AND used_at IS NULL AND expires_at > :now AND attempts < :max', { id, now, max })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Marks the row used (finished or spent), only if it was not already. Whether it did. */
  async markUsed(id: number, now: Date, tx: Transaction = this.rows.manager): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .update(PendingSignIn)
      .set({ usedAt: now })
      .where('id = :id AND used_at IS NULL', { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Deletes the user's rows that can never be used again (finished, spent, or expired by `now`). */
  async deleteDoneOf(userId: number, now: Date, tx: Transaction = this.rows.manager): Promise<void> {
    await tx
      .createQueryBuilder()
      .delete()
      .from(PendingSignIn)
      .where('user_id = :userId AND (used_at IS NOT NULL OR expires_at <= :now)', { userId, now })
      .execute();
  }

  /** Deletes rows that expired before `cutoff`, a batch per statement; how many. */
  deleteExpiredBefore(cutoff: Date): Promise<number> {
    return deleteInBatches(this.rows, (t) => `${t}expiresAt < :cutoff`, { cutoff });
  }
}
