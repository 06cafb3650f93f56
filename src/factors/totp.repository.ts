import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import type { Transaction } from '../common/database/transactions';
import { RecoveryCode } from './recovery-code.entity';
import { TotpFactor } from './totp-factor.entity';

/**
 * The `totp_factors` and `recovery_codes` tables: an account's authenticator app and the codes
 * that stand in for it. The rules (when a code counts, what needs a recent password) are
 * TotpService's. Each write that can race is one conditional statement that says whether it changed a row.
 */
@Injectable()
export class TotpRepository {
  constructor(@InjectRepository(TotpFactor) private readonly factors: Repository<TotpFactor>) {}

  /** The account's factor with its encrypted secret, pending or confirmed; null if none. */
  findWithSecret(userId: number, tx: Transaction = this.factors.manager): Promise<TotpFactor | null> {
    return tx
      .createQueryBuilder(TotpFactor, 'f')
      .addSelect('f.secretEncrypted')
      .where('f.user_id = :userId', { userId })
      .getOne();
  }

  /** Whether the account has a confirmed factor (the app is on). */
  async isConfirmed(userId: number, tx: Transaction = this.factors.manager): Promise<boolean> {
    return (await tx.count(TotpFactor, { where: { userId, confirmedAt: Not(IsNull()) } })) > 0;
  }

  /** A new pending factor, replacing a pending one; nothing (false) if a confirmed one exists. */
  async replacePending(
    row: Pick<TotpFactor, 'userId' | 'secretEncrypted' | 'createdAt'>,
    tx: Transaction = this.factors.manager,
  ): Promise<boolean> {
    await tx.delete(TotpFactor, { userId: row.userId, confirmedAt: IsNull() });
    if (await this.isConfirmed(row.userId, tx)) return false;
    await tx.insert(TotpFactor, { ...row, confirmedAt: null, lastUsedStep: null, lastUsedAt: null });
    return true;
  }

  /**
   * Records that the code of time step `step` was accepted, only if no code of that step or a later
   * one was before (and, with `confirm`, turns a pending factor on, only if it is still pending):
   * one statement, so of two requests with one code exactly one changes the row. Whether it did.
   */
  async useStep(
    userId: number,
    step: number,
    now: Date,
    confirm: boolean,
    tx: Transaction = this.factors.manager,
  ): Promise<boolean> {
    const query = tx
      .createQueryBuilder()
      .update(TotpFactor)
      .set({ lastUsedStep: step, lastUsedAt: now, ...(confirm ? { confirmedAt: now } : {}) })
      .where('user_id = :userId AND (last_used_step IS NULL OR last_used_step < :step)', { userId, step })
      .andWhere(confirm ? 'confirmed_at IS NULL' : 'confirmed_at IS NOT NULL');
    const result = await query.execute();
    return (result.affected ?? 0) > 0;
  }

  /** Deletes the account's confirmed factor and its recovery codes; whether there was one. */
  async deleteConfirmed(userId: number, tx: Transaction = this.factors.manager): Promise<boolean> {
    const result = await tx.delete(TotpFactor, { userId, confirmedAt: Not(IsNull()) });
    if ((result.affected ?? 0) === 0) return false;
    await tx.delete(RecoveryCode, { userId });
    return true;
  }

  /** Replaces every recovery code of the account by these hashes. */
  async replaceRecoveryCodes(
    userId: number,
    hashes: readonly string[],
    now: Date,
    tx: Transaction = this.factors.manager,
  ): Promise<void> {
    await tx.delete(RecoveryCode, { userId });
    await tx.insert(
      RecoveryCode,
      hashes.map((codeHash) => ({ userId, codeHash, createdAt: now, usedAt: null })),
    );
  }

  /**
   * Uses the account's unused code with this hash: one conditional statement, so a code is used
   * once even by concurrent requests. Whether it did.
   */
  async useRecoveryCode(
    userId: number,
    codeHash: string,
    now: Date,
    tx: Transaction = this.factors.manager,
  ): Promise<boolean> {
    const result = await tx
      .createQueryBuilder()
      .update(RecoveryCode)
      .set({ usedAt: now })
      .where('user_id = :userId AND code_hash = :codeHash AND used_at IS NULL', { userId, codeHash })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** How many of the account's recovery codes are still unused. */
  unusedRecoveryCodes(userId: number, tx: Transaction = this.factors.manager): Promise<number> {
    return tx.count(RecoveryCode, { where: { userId, usedAt: IsNull() } });
  }
}
