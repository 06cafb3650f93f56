import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { AuthEvents } from '../sessions/auth-events';
import type { Session } from '../sessions/session.entity';
import { SessionsService } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';

/**
 * What an administrator may do to other accounts (ASVS V7.4.5: terminate a user's sessions;
 * disable and re-enable an account). AdminGuard has already checked the role and the recent
 * password; each action is logged (`admin_action`, ids only) once it is done.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly auth: AuthService,
    private readonly events: AuthEvents,
  ) {}

  async findByEmail(admin: User, email: string): Promise<User[]> {
    const user = await this.users.findByEmail(email);
    this.events.adminAction(admin.id, 'find_users', user?.id ?? null);
    return user ? [user] : [];
  }

  async listSessions(admin: User, userId: number): Promise<Session[]> {
    const user = await this.userOr404(userId);
    const sessions = await this.sessions.listUsable(user);
    this.events.adminAction(admin.id, 'list_sessions', userId);
    return sessions;
  }

  /**
   * Ends every active session of the user (reason `revoked_by_admin`); the admin's own too, if it
   * is theirs. A credential change (AuthService.endAllSessions), so a login in flight ends too.
   */
  async revokeSessions(admin: User, userId: number): Promise<number> {
    await this.userOr404(userId);
    const revoked = await this.auth.endAllSessions(userId, 'revoked_by_admin');
    this.events.adminAction(admin.id, 'revoke_sessions', userId, { count: revoked });
    return revoked;
  }

  /**
   * Disables the account and ends its sessions (reason `account_disabled`). Not one's own: that
   * would lock out the only person able to undo it, so it is a 400.
   */
  async disable(admin: User, userId: number): Promise<User> {
    await this.userOr404(userId);
    if (userId === admin.id) throw new BadRequestException('Administrators cannot disable their own account');
    await this.auth.deactivateAccount(userId);
    this.events.adminAction(admin.id, 'disable_user', userId);
    return this.userOr404(userId);
  }

  /** Lets the account sign in again; the sessions that disabling ended stay ended. */
  async enable(admin: User, userId: number): Promise<User> {
    await this.userOr404(userId);
    await this.users.enable(userId);
    this.events.adminAction(admin.id, 'enable_user', userId);
    return this.userOr404(userId);
  }

  private async userOr404(userId: number): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user) throw new NotFoundException('User not found');
    return user;
  }
}
