import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { TimeoutReason } from './session-rules';
import type { ClientOrigin } from './sessions.service';

export type AdminAction = 'find_users' | 'list_sessions' | 'revoke_sessions' | 'disable_user' | 'enable_user';

export type RevokedBy = 'user' | 'password_change' | 'session_cap';

/**
 * Authentication events as structured log lines, one method per event: a stable `event` field
 * (also the message) and ids only. Never an email, password, token or hash: logs travel further and
 * live longer than the database. A failed login is logged without the email it tried (null
 * `user_id` for an unknown one), because people do type their password into the email field;
 * the email stays in the login_attempts table, which is pruned after RETENTION_DAYS.
 *
 * Within a request every line carries the request's id (`reqId`, from nestjs-pino's context).
 * Called after the change is committed, so a line never reports work that was rolled back.
 */
@Injectable()
export class AuthEvents {
  constructor(private readonly logger: PinoLogger) {
    this.logger.setContext('AuthEvents');
  }

  loginSucceeded(userId: number, sessionId: number, ip: string | null): void {
    this.emit('info', 'login_succeeded', { user_id: userId, session_id: sessionId, ip });
  }

  /**
   * A login from a browser, operating system and country the account had not used before (see
   * AuthService.login). The hook for notifying the owner. The address is on the login_succeeded
   * line of the same request (same reqId); the device and country are not personal on their own.
   */
  newDeviceLogin(userId: number, sessionId: number, origin: ClientOrigin): void {
    this.emit('info', 'new_device_login', {
      user_id: userId,
      session_id: sessionId,
      browser: origin.device.browser,
      os: origin.device.os,
      country: origin.country,
    });
  }

  loginFailed(reason: 'bad_password' | 'account_disabled', userId: number | null, ip: string | null): void {
    this.emit('warn', 'login_failed', { reason, user_id: userId, ip });
  }

  loginThrottled(retryAfterSeconds: number, userId: number | null, ip: string | null): void {
    this.emit('warn', 'login_throttled', { retry_after: retryAfterSeconds, user_id: userId, ip });
  }

  logout(userId: number, sessionId: number): void {
    this.emit('info', 'logout', { user_id: userId, session_id: sessionId });
  }

  /** One session (by id) or several (by count) ended with reason `revoked`. */
  sessionRevoked(userId: number, by: RevokedBy, ended: { sessionId: number } | { count: number }): void {
    const which = 'sessionId' in ended ? { session_id: ended.sessionId } : { count: ended.count };
    this.emit('info', 'session_revoked', { user_id: userId, ...which, by });
  }

  /** `session_expired` or `session_idle_timeout`, found by a request using it or by the cleanup job. */
  sessionTimedOut(reason: TimeoutReason, userId: number, sessionId: number, detectedBy: 'request' | 'cleanup'): void {
    this.emit('info', `session_${reason}`, { user_id: userId, session_id: sessionId, detected_by: detectedBy });
  }

  /** `revoked` counts the other sessions ended; the caller's session was replaced by a new one. */
  passwordChanged(userId: number, revoked: number, oldSessionId: number, newSessionId: number): void {
    this.emit('info', 'password_changed', {
      user_id: userId,
      revoked,
      session_id: oldSessionId,
      new_session_id: newSessionId,
    });
  }

  /** POST /reauthenticate proved the password: the session's auth_time is now. */
  reauthenticated(userId: number, sessionId: number): void {
    this.emit('info', 'reauthenticated', { user_id: userId, session_id: sessionId });
  }

  /** POST /reauthenticate with a wrong password (the session stays as it was). */
  reauthFailed(userId: number, sessionId: number, ip: string | null): void {
    this.emit('warn', 'reauth_failed', { user_id: userId, session_id: sessionId, ip });
  }

  /**
   * An administrator's action (ASVS V7.4.5): who (`admin_id`), what, and on whom (`target_user_id`,
   * null for a search that found no one); `count` for how many sessions it ended.
   */
  adminAction(adminId: number, action: AdminAction, targetUserId: number | null, extra: { count?: number } = {}): void {
    this.emit('info', 'admin_action', { admin_id: adminId, action, target_user_id: targetUserId, ...extra });
  }

  private emit(level: 'info' | 'warn', event: string, fields: Record<string, unknown>): void {
    this.logger[level]({ event, ...fields }, event);
  }
}
