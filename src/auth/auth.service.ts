import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import type { RequestAuth } from '../common/auth.decorators';
import type { Session } from '../sessions/session.entity';
import { SessionsService, type ClientInfo } from '../sessions/sessions.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { LoginDto } from './dto/login.dto';
import type { SignupDto } from './dto/signup.dto';
import { PasswordHasher } from './password-hasher.service';
import { unauthorized } from './session.guard';

export const INVALID_CREDENTIALS = 'Invalid email or password';

export interface LoginResult {
  user: User;
  session: Session;
  token: string;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly hasher: PasswordHasher,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async signup(dto: SignupDto): Promise<User> {
    // Checked first so a taken email costs no bcrypt work; the unique index still decides races.
    await this.users.assertEmailFree(dto.email);
    const passwordHash = await this.hasher.hash(dto.password);
    return this.users.create({ name: dto.name, phone: dto.phone, email: dto.email, passwordHash });
  }

  /**
   * Checks the password (an unknown email costs the same bcrypt compare as a wrong password, and
   * both get one message), then in one transaction ends the session the request already carried
   * (no fixation, no orphans), starts a new one and records the login time.
   */
  async login(dto: LoginDto, client: ClientInfo, previous: RequestAuth): Promise<LoginResult> {
    const found = await this.users.findWithPasswordHash(dto.email);
    const passwordOk = await this.hasher.verify(dto.password, found?.passwordHash);
    if (!found || !passwordOk) throw new UnauthorizedException(INVALID_CREDENTIALS);
    if (!found.isActive) throw new ForbiddenException('This account is disabled');

    const now = this.clock.now();
    const { passwordHash: _hash, ...user } = found;
    return this.dataSource.transaction(async (manager) => {
      if (previous.session) await this.sessions.end(previous.session.id, 'logged_out', now, manager);
      await manager.update(User, { id: user.id }, { lastLogin: now });
      const { session, token } = await this.sessions.start(found, client, manager);
      return { user: { ...user, lastLogin: now } as User, session, token };
    });
  }

  /** Ends the caller's session if it has one; logging out without one is not an error. */
  async logout(auth: RequestAuth): Promise<void> {
    if (auth.session) await this.sessions.end(auth.session.id, 'logged_out');
  }

  /** The caller's session, or the 401 that says why there is none. */
  status(auth: RequestAuth): { user: User; session: Session; expiresIn: number } {
    if (!auth.user || !auth.session) throw unauthorized(auth.failure ?? 'missing');
    const expiresIn = Math.max(0, Math.floor((auth.session.expiresAt.getTime() - this.clock.now().getTime()) / 1000));
    return { user: auth.user, session: auth.session, expiresIn };
  }
}
