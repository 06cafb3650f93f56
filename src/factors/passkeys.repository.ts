import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Transaction } from '../common/database/transactions';
import { Passkey } from './passkey.entity';

/**
 * The `passkeys` table: every read and write of it. What a passkey may do and when is
 * PasskeysService's. Each write that can race is one conditional statement that says whether it
 * changed a row.
 */
@Injectable()
export class PasskeysRepository {
  constructor(@InjectRepository(Passkey) private readonly passkeys: Repository<Passkey>) {}

  async insert(row: Omit<Passkey, 'id'>, tx: Transaction = this.passkeys.manager): Promise<Passkey> {
    const result = await tx.insert(Passkey, row);
    return { ...row, id: (result.identifiers[0] as { id: number }).id };
  }

  /** The account's passkeys, oldest first. */
  listOf(userId: number): Promise<Passkey[]> {
    return this.passkeys.find({ where: { userId }, order: { id: 'ASC' } });
  }

  countOf(userId: number): Promise<number> {
    return this.passkeys.count({ where: { userId } });
  }

  /** The account's passkey with this id; null for an unknown id or another account's. */
  findOwn(userId: number, id: number): Promise<Passkey | null> {
    return this.passkeys.findOne({ where: { userId, id } });
  }

  findByCredentialId(credentialId: string): Promise<Passkey | null> {
    return this.passkeys.findOne({ where: { credentialId } });
  }

  /** Renames the account's passkey; whether it exists. */
  async rename(userId: number, id: number, name: string): Promise<boolean> {
    const result = await this.passkeys.update({ userId, id }, { name });
    return (result.affected ?? 0) > 0;
  }

  /** Deletes the account's passkey; whether this call deleted it. */
  async remove(userId: number, id: number, tx: Transaction = this.passkeys.manager): Promise<boolean> {
    const result = await tx.delete(Passkey, { userId, id });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Records a verified use: the new counter, backup state and time, only if the row still exists
   * with the counter the assertion was checked against (a compare-and-set): of two uses racing with
   * one counter value, one lands; a passkey removed meanwhile is not used. Whether it landed.
   */
  async recordUse(
    id: number,
    checkedCounter: number,
    use: { counter: number; backedUp: boolean; at: Date },
  ): Promise<boolean> {
    const result = await this.passkeys
      .createQueryBuilder()
      .update(Passkey)
      .set({ counter: use.counter, backedUp: use.backedUp, lastUsedAt: use.at })
      .where('id = :id AND counter = :checkedCounter', { id, checkedCounter })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
