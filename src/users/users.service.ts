import { ConflictException, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app.config';
import { Clock } from '../common/clock';
import type { Transaction } from '../common/database/transactions';
import type { User } from './user.entity';
import { EmailTakenError, UsersRepository, type CredentialChange } from './users.repository';

export const EMAIL_TAKEN = 'An account with this email already exists';

export interface NewUser {
  name: string;
  phone: string;
  email: string;
  passwordHash: string;
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersRepository,
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
  syncAdmins(emails: string[]): Promise<void> {
    return this.users.setAdmins(emails);
  }

  /** Inserts a user (in `tx` if given); a taken email (even one taken a moment ago by a concurrent signup) is a 409. */
  async create(data: NewUser, tx?: Transaction): Promise<User> {
    const user = await this.users.insert(
      {
        ...data,
        createdAt: this.clock.now(),
        lastLogin: null,
        isActive: true,
        isAdmin: this.config.adminEmails.includes(data.email),
        // Proven only by a verification (or reset) link.
        emailVerified: false,
        credentialVersion: 0,
      },
      tx,
    );
    if (!user) throw new ConflictException(EMAIL_TAKEN);
    return user;
  }

  async assertEmailFree(email: string): Promise<void> {
    if (await this.users.emailExists(email)) throw new ConflictException(EMAIL_TAKEN);
  }

  /**
   * The one read that includes the password hash: for checking a password, nothing else. The row
   * comes with its credential_version and is_active from the same read, which the login then holds
   * its session to (recordLogin): a change committed after this read makes that session stale.
   */
  findWithPasswordHash(email: string): Promise<User | null> {
    return this.users.findWithPasswordHash({ email });
  }

  findWithPasswordHashById(id: number): Promise<User | null> {
    return this.users.findWithPasswordHash({ id });
  }

  /**
   * Lets a disabled account sign in again. Its credential_version stays where the disable moved it,
   * so no session from before the disable (nor from a login that raced it) works again.
   */
  async enable(id: number): Promise<void> {
    await this.users.setActive(id, true);
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findByEmail(email);
  }

  /**
   * Records a successful login's time on the user's row, only if the account is still active and
   * still at `credentialVersion`, the version read with the hash the login checked; false (nothing
   * written) otherwise. The login's first write: see AuthService.login for why this makes the
   * login race-free against every credential change.
   */
  recordLogin(id: number, at: Date, credentialVersion: number, tx?: Transaction): Promise<boolean> {
    return this.users.recordLogin(id, at, credentialVersion, tx);
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
  changeCredentials(id: number, change: CredentialChange, tx?: Transaction): Promise<boolean> {
    return this.users.changeCredentials(id, change, tx);
  }

  /**
   * An e-mail change, confirmed by a link sent to the new address: a credential change (see
   * changeCredentials) that writes the new address as verified, and is_admin as ADMIN_EMAILS says
   * for it, only if the account is still at `ifVersion`. False if it was not (a credential change
   * since the link was sent); 409 if another account has the address.
   */
  async changeEmail(id: number, email: string, ifVersion: number, tx: Transaction): Promise<boolean> {
    try {
      return await this.users.changeCredentials(
        id,
        { email: { address: email, verified: true, isAdmin: this.config.adminEmails.includes(email) }, ifVersion },
        tx,
      );
    } catch (error) {
      if (error instanceof EmailTakenError) throw new ConflictException(EMAIL_TAKEN);
      throw error;
    }
  }

  /** Holds the user's row until `tx` ends (see UsersRepository.lock). */
  lock(id: number, tx: Transaction): Promise<void> {
    return this.users.lock(id, tx);
  }

  /** Marks the address verified, only while the account still has `email`; whether it did. */
  markEmailVerified(id: number, email: string, tx?: Transaction): Promise<boolean> {
    return this.users.markEmailVerified(id, email, tx);
  }

  /**
   * Replaces a password hash by a re-made hash of the same password (a new cost or its NFC form),
   * only if the stored hash is still `oldHash`: a password changed since it was checked is never
   * overwritten. Not a credential change: no session ends and nothing else on the row moves. Returns
   * whether the row was updated (false: the hash had changed meanwhile).
   */
  rehashPassword(id: number, oldHash: string, newHash: string): Promise<boolean> {
    return this.users.replacePasswordHash(id, oldHash, newHash);
  }

  findById(id: number): Promise<User | null> {
    return this.users.findById(id);
  }

  findNames(ids: number[]): Promise<Map<number, string>> {
    return this.users.findNames(ids);
  }
}
