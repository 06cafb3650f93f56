import { ConflictException, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Not, Repository } from 'typeorm';
import { appConfig, type AppConfig } from '../config/app.config';
import { Clock } from '../common/clock';
import { isUniqueViolation } from '../common/database/database-errors';
import { User } from './user.entity';

const EMAIL_TAKEN = 'An account with this email already exists';

/**
 * The 409 of a request that lost a race to a credential change of the same account (another
 * password change, a disable, an "end all"): it changed nothing, and the client's session (if it
 * had one) is no longer valid. A login, a password change and an "end all" answer it.
 */
export function credentialsChanged(): ConflictException {
  return new ConflictException(
    "The account's credentials or sessions changed while this request ran; nothing was done (sign in again)",
  );
}

export interface NewUser {
  name: string;
  phone: string;
  email: string;
  passwordHash: string;
}

/** What a credential change does besides moving credential_version on (UsersService.changeCredentials). */
export interface CredentialChange {
  /** The new password's hash (a password change or reset). */
  passwordHash?: string;
  /** Disables the account. */
  disable?: boolean;
  /** Only if the account is still at this credential version. */
  ifVersion?: number;
  /** Only while this session of the account is still active at `ifVersion` (which it then needs). */
  whileSessionActive?: number;
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /**
   * ADMIN_EMAILS is the one source of who is an administrator; users.is_admin is its copy, set at
   * every start (so an email taken off the list loses the role at the next start) and at signup.
   * The guard then reads the role with the session, in the query it already runs.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.syncAdmins(this.config.adminEmails);
  }

  /** Two UPDATEs: is_admin on for the listed emails, off for every other user who has it. */
  async syncAdmins(emails: string[]): Promise<void> {
    if (emails.length > 0) await this.users.update({ email: In(emails), isAdmin: false }, { isAdmin: true });
    await this.users.update(emails.length > 0 ? { email: Not(In(emails)), isAdmin: true } : { isAdmin: true }, {
      isAdmin: false,
    });
  }

  /** Inserts a user; a taken email (even one taken a moment ago by a concurrent signup) is a 409. */
  async create(data: NewUser): Promise<User> {
    const user = this.users.create({
      ...data,
      createdAt: this.clock.now(),
      lastLogin: null,
      isActive: true,
      isAdmin: this.config.adminEmails.includes(data.email),
    });
    try {
      await this.users.insert(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException(EMAIL_TAKEN);
      throw error;
    }
    return user;
  }

  async assertEmailFree(email: string): Promise<void> {
    if (await this.users.exists({ where: { email } })) throw new ConflictException(EMAIL_TAKEN);
  }

  /**
   * The one read that includes the password hash: for checking a password, nothing else. The row
   * comes with its credential_version and is_active from the same read, which the login then holds
   * its session to (recordLogin): a change committed after this read makes that session stale.
   */
  async findWithPasswordHash(email: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('user.email = :email', { email })
      .getOne();
  }

  async findWithPasswordHashById(id: number): Promise<User | null> {
    return this.users.createQueryBuilder('user').addSelect('user.passwordHash').where('user.id = :id', { id }).getOne();
  }

  /**
   * Lets a disabled account sign in again. Its credential_version stays where the disable moved it,
   * so no session from before the disable (nor from a login that raced it) works again.
   */
  async enable(id: number): Promise<void> {
    await this.users.update({ id }, { isActive: true });
  }

  async findByEmail(email: string): Promise<User | null> {
    return this.users.findOne({ where: { email } });
  }

  /**
   * Records a successful login's time on the user's row, only if the account is still active and
   * still at `credentialVersion`, the version read with the hash the login checked; false (nothing
   * written) otherwise. The login's first write: see AuthService.login for why this makes the
   * login race-free against every credential change.
   */
  async recordLogin(
    id: number,
    at: Date,
    credentialVersion: number,
    manager: EntityManager = this.users.manager,
  ): Promise<boolean> {
    const result = await manager.update(User, { id, credentialVersion, isActive: true }, { lastLogin: at });
    return (result.affected ?? 0) > 0;
  }

  /**
   * The one way to change an account's credentials: a password change or reset, a disable, an
   * "end all". Moves credential_version on by one in the same statement as the change, so every
   * session born under the old version (SessionsService.authenticate) stops working, and a login
   * that read the old version cannot record itself (recordLogin). Call it inside the transaction
   * that also ends the sessions (reasons for /session_status), before ending them.
   *
   * With `ifVersion`, only if the account is still at that version, and with `whileSessionActive`
   * also only while that session (the caller's) is still active at that version: one statement, so
   * of two changes that read the same version exactly one succeeds (the loser waits for the row
   * lock on PostgreSQL and then finds the version moved on). Returns whether the change was made.
   */
  async changeCredentials(
    id: number,
    change: CredentialChange,
    manager: EntityManager = this.users.manager,
  ): Promise<boolean> {
    const update = manager
      .createQueryBuilder()
      .update(User)
      .set({
        credentialVersion: () => 'credential_version + 1',
        ...(change.passwordHash !== undefined ? { passwordHash: change.passwordHash } : {}),
        ...(change.disable ? { isActive: false } : {}),
      })
      .where('id = :id', { id });
    if (change.ifVersion !== undefined) update.andWhere('credential_version = :version', { version: change.ifVersion });
    if (change.whileSessionActive !== undefined) {
      // Read in the statement itself (not a separate SELECT), so nothing can end the session
      // between the check and the change.
      update.andWhere(
        'EXISTS (SELECT 1 FROM sessions s WHERE s.id = :sessionId AND s.user_id = :id AND s.is_active = :active AND s.credential_version = :version)',
        { sessionId: change.whileSessionActive, active: true, version: change.ifVersion },
      );
    }
    const result = await update.execute();
    return (result.affected ?? 0) > 0;
  }

  /**
   * Replaces a password hash by a re-made hash of the same password (a new cost or its NFC form),
   * only if the stored hash is still `oldHash`: a password changed since it was checked is never
   * overwritten. Not a credential change: no session ends and nothing else on the row moves. Returns
   * whether the row was updated (false: the hash had changed meanwhile).
   */
  async rehashPassword(id: number, oldHash: string, newHash: string): Promise<boolean> {
    const result = await this.users.update({ id, passwordHash: oldHash }, { passwordHash: newHash });
    return (result.affected ?? 0) > 0;
  }

  async findById(id: number): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  async findNames(ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.users.createQueryBuilder('user').select(['user.id', 'user.name']).whereInIds(ids).getMany();
    return new Map(rows.map((u) => [u.id, u.name]));
  }
}
