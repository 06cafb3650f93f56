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

  loginFailed(
    reason: 'bad_password' | 'account_disabled' | 'email_not_verified',
    userId: number | null,
    ip: string | null,
  ): void {
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

  /**
   * A sign-in found its hash stale (another cost, $2a$/$2y$, or made from a non-NFC password):
   * `rehashed`, or left for next time because the password changed meanwhile (`changed`), the
   * hashing queue was full (`busy`) or the write failed (`failed`).
   */
  passwordRehashed(userId: number, outcome: 'rehashed' | 'changed' | 'busy' | 'failed'): void {
    this.emit(outcome === 'failed' ? 'warn' : 'info', 'password_rehashed', { user_id: userId, outcome });
  }

  /**
   * A link was mailed for the account (`reset_password`, `verify_email`, `change_email`), or not
   * because the account had been sent enough of them this hour (`capped`). Never the address or token.
   */
  recoveryMail(userId: number, purpose: 'reset_password' | 'verify_email' | 'change_email', capped = false): void {
    this.emit(capped ? 'warn' : 'info', capped ? 'recovery_mail_capped' : 'recovery_mail_queued', {
      user_id: userId,
      purpose,
    });
  }

  /** POST /reset_password set a new password; `revoked` counts the sessions it ended. */
  passwordReset(userId: number, revoked: number): void {
    this.emit('info', 'password_reset', { user_id: userId, revoked });
  }

  /** POST /verify_email confirmed the account's address (`verified`) or made a new one its address (`changed`, ending `revoked` other sessions). */
  emailConfirmed(userId: number, outcome: 'verified' | 'changed', revoked = 0): void {
    this.emit('info', outcome === 'changed' ? 'email_changed' : 'email_verified', { user_id: userId, revoked });
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
