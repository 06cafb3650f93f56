import { ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
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
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly clock: Clock,
  ) {}

  /** Inserts a user; a taken email (even one taken a moment ago by a concurrent signup) is a 409. */
  async create(data: NewUser): Promise<User> {
    const user = this.users.create({ ...data, createdAt: this.clock.now(), lastLogin: null, isActive: true });
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

  /** Records a successful login's time on the user's row. */
  async recordLogin(id: number, at: Date, manager: EntityManager = this.users.manager): Promise<void> {
    await manager.update(User, { id }, { lastLogin: at });
  }

  async setPasswordHash(id: number, passwordHash: string, manager: EntityManager = this.users.manager): Promise<void> {
    await manager.update(User, { id }, { passwordHash });
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
