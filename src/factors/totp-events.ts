import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';

/**
 * The authenticator app's events as log lines (AuthEvents' conventions: a stable `event`, ids
 * only). Never a secret, a code or a recovery code, right or wrong.
 */
@Injectable()
export class TotpEvents {
  constructor(private readonly logger: PinoLogger) {
    this.logger.setContext('AuthEvents');
  }

  /** `totp_setup` (a pending secret), `totp_enabled`, `totp_disabled`, `recovery_codes_generated`. */
  changed(
    event: 'totp_setup' | 'totp_enabled' | 'totp_disabled' | 'recovery_codes_generated',
    userId: number,
    sessionId: number,
  ): void {
    this.logger.info({ event, user_id: userId, session_id: sessionId }, event);
  }

  /** A right password on an account with the app on: a pending sign-in, no session yet. */
  secondFactorRequired(userId: number, ip: string | null): void {
    this.logger.info({ event: 'second_factor_required', user_id: userId, ip }, 'second_factor_required');
  }

  /** A wrong code or recovery code at the second step; `spent`: that was the last try of this pending sign-in. */
  secondFactorFailed(userId: number, method: 'otp' | 'recovery_code', spent: boolean, ip: string | null): void {
    this.logger.warn({ event: 'second_factor_failed', user_id: userId, method, spent, ip }, 'second_factor_failed');
  }

  /** A sign-in finished with a recovery code (the session's own login_succeeded line follows). */
  recoveryCodeUsed(userId: number, left: number): void {
    this.logger.info({ event: 'recovery_code_used', user_id: userId, left }, 'recovery_code_used');
  }
}
