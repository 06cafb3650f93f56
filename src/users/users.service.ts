import { ConflictException, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Not, Repository } from 'typeorm';
import { appConfig, type AppConfig } from '../config/app.config';
import { Clock } from '../common/clock';
import { isUniqueViolation } from '../common/database/database-errors';
import { User } from './user.entity';

const EMAIL_TAKEN = 'An account with this email already exists';

export interface NewUser {
  name: string;
  phone: string;
  email: string;
  passwordHash: string;
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

  /** The one read that includes the password hash: for checking a password, nothing else. */
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

  /** Marks the account disabled (AuthService.deactivateAccount also ends its sessions). */
  async disable(id: number, manager: EntityManager = this.users.manager): Promise<void> {
    await manager.update(User, { id }, { isActive: false });
  }

  /** Lets a disabled account sign in again; its ended sessions stay ended. */
  async enable(id: number): Promise<void> {
    await this.users.update({ id }, { isActive: true });
  }

  async findByEmail(email: string): Promise<User | null> {
    return this.users.findOne({ where: { email } });
  }

  /** Records a successful login's time on the user's row. */
  async recordLogin(id: number, at: Date, manager: EntityManager = this.users.manager): Promise<void> {
    await manager.update(User, { id }, { lastLogin: at });
  }

  async setPasswordHash(id: number, passwordHash: string, manager: EntityManager = this.users.manager): Promise<void> {
    await manager.update(User, { id }, { passwordHash });
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
