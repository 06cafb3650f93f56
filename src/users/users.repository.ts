import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, Repository } from 'typeorm';
import { isUniqueViolation } from '../common/database/database-errors';
import type { Transaction } from '../common/database/transactions';
import { User } from './user.entity';

/** What a credential change writes besides moving credential_version on (see `changeCredentials`). */
export interface CredentialChange {
  /** The new password's hash (a password change or reset). */
  passwordHash?: string;
  /** Disables the account. */
  disable?: boolean;
  /** A new address (an e-mail change; its verification and admin role with it). */
  email?: { address: string; verified: boolean; isAdmin: boolean };
  /** Marks the address verified (a password reset through a link sent to it). */
  emailVerified?: true;
  /** Only if the account is still at this credential version. */
  ifVersion?: number;
  /** Only while this session of the account is still active at `ifVersion` (which it then needs). */
  whileSessionActive?: number;
}

/** An e-mail change to an address another account has (the unique index decided). */
export class EmailTakenError extends Error {
  constructor() {
    super('email taken');
  }
}

/**
 * The `users` table: every read and write of it. The rules (who is an administrator, what a taken
 * email answers, when credentials may change) are UsersService's. Each conditional write is one
 * statement and says whether it changed the row, so the caller can tell a race it lost. Methods
 * taking `tx` run in that transaction when given one (Transactions.run), else on their own.
 */
@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /** Inserts a user; returns it with its id, or null if the email is taken (even a moment ago, by a concurrent insert). */
  async insert(row: Omit<User, 'id'>, tx: Transaction = this.users.manager): Promise<User | null> {
    const user = this.users.create(row);
    try {
      await tx.insert(User, user);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
    return user;
  }

  emailExists(email: string): Promise<boolean> {
    return this.users.exists({ where: { email } });
  }

  findById(id: number): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOne({ where: { email } });
  }

  /** The one read that includes the password hash (with the credential version and status of the same read). */
  findWithPasswordHash(by: { email: string } | { id: number }): Promise<User | null> {
    const query = this.users.createQueryBuilder('user').addSelect('user.passwordHash');
    return 'email' in by
      ? query.where('user.email = :email', { email: by.email }).getOne()
      : query.where('user.id = :id', { id: by.id }).getOne();
  }

  /** The names of these users, by id (ids with no user are left out). */
  async findNames(ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.users.createQueryBuilder('user').select(['user.id', 'user.name']).whereInIds(ids).getMany();
    return new Map(rows.map((u) => [u.id, u.name]));
  }

  /** Sets is_admin on exactly the users with these emails: two UPDATEs, of the rows that change only. */
  async setAdmins(emails: string[]): Promise<void> {
    if (emails.length > 0) await this.users.update({ email: In(emails), isAdmin: false }, { isAdmin: true });
    await this.users.update(emails.length > 0 ? { email: Not(In(emails)), isAdmin: true } : { isAdmin: true }, {
      isAdmin: false,
    });
  }

  async setActive(id: number, isActive: boolean): Promise<void> {
    await this.users.update({ id }, { isActive });
  }

  /** Sets last_login, only if the account is still active at `credentialVersion`; whether it did. */
  async recordLogin(
    id: number,
    at: Date,
    credentialVersion: number,
    tx: Transaction = this.users.manager,
  ): Promise<boolean> {
    const result = await tx.update(User, { id, credentialVersion, isActive: true }, { lastLogin: at });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Moves credential_version on by one and writes `change`, in one statement, only if its
   * conditions still hold (see CredentialChange); whether it did. `whileSessionActive` is read in
   * the statement itself (not a separate SELECT), so nothing can end the session between the check
   * and the change; of two changes that read the same version exactly one succeeds (the loser waits
   * for the row lock on PostgreSQL and then finds the version moved on).
   */
  async changeCredentials(
    id: number,
    change: CredentialChange,
    tx: Transaction = this.users.manager,
  ): Promise<boolean> {
    const update = tx
      .createQueryBuilder()
      .update(User)
      .set({
        credentialVersion: () => 'credential_version + 1',
        ...(change.passwordHash !== undefined ? { passwordHash: change.passwordHash } : {}),
        ...(change.disable ? { isActive: false } : {}),
        ...(change.email
          ? { email: change.email.address, emailVerified: change.email.verified, isAdmin: change.email.isAdmin }
          : {}),
        ...(change.emailVerified ? { emailVerified: true } : {}),
      })
      .where('id = :id', { id });
    if (change.ifVersion !== undefined) update.andWhere('credential_version = :version', { version: change.ifVersion });
    if (change.whileSessionActive !== undefined) {
      // The one read of another aggregate's table here: it has to be in this statement.
      update.andWhere(
        'EXISTS (SELECT 1 FROM sessions s WHERE s.id = :sessionId AND s.user_id = :id AND s.is_active = :active AND s.credential_version = :version)',
        { sessionId: change.whileSessionActive, active: true, version: change.ifVersion },
      );
    }
    try {
      const result = await update.execute();
      return (result.affected ?? 0) > 0;
    } catch (error) {
      // A new address another account took meanwhile: the caller's transaction is over (PostgreSQL
      // aborts it), so this is thrown as the repository's own answer, for the service to turn into 409.
      if (change.email && isUniqueViolation(error)) throw new EmailTakenError();
      throw error;
    }
  }

  /**
   * Holds the user's row until `tx` ends, so that what is counted per account inside `tx` (the links
   * sent this hour) cannot be raced by another transaction doing the same: SELECT … FOR UPDATE on
   * PostgreSQL; SQLite's transactions take turns already (one connection).
   */
  async lock(id: number, tx: Transaction): Promise<void> {
    if (tx.connection.driver.options.type !== 'postgres') return;
    await tx
      .createQueryBuilder(User, 'user')
      .select('user.id')
      .where('user.id = :id', { id })
      .setLock('pessimistic_write')
      .getOne();
  }

  /** Marks the address verified, only while it is still `email`; whether it did. */
  async markEmailVerified(id: number, email: string, tx: Transaction = this.users.manager): Promise<boolean> {
    const result = await tx.update(User, { id, email }, { emailVerified: true });
    return (result.affected ?? 0) > 0;
  }

  /** Replaces the password hash only if it is still `oldHash`; whether it did. */
  async replacePasswordHash(id: number, oldHash: string, newHash: string): Promise<boolean> {
    const result = await this.users.update({ id, passwordHash: oldHash }, { passwordHash: newHash });
    return (result.affected ?? 0) > 0;
  }
}
