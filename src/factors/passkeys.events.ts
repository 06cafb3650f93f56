import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';

/** Why a passkey response was refused, for the log (the client gets one 401 for all of them). */
export type PasskeyRefusal =
  | 'challenge' // unknown, spent, expired, or issued for another purpose, account or session
  | 'unknown_credential' // no such passkey (or not the caller's, for a re-authentication)
  | 'verification' // signature, origin, RP ID, user presence or verification, type
  | 'raced'; // removed, or used with the same counter, while this response was being checked

/**
 * Passkey events as structured log lines, as AuthEvents writes them: a stable `event`, ids only,
 * never a credential id, key, challenge or client-sent text.
 */
@Injectable()
export class PasskeyEvents {
  constructor(private readonly logger: PinoLogger) {
    this.logger.setContext('PasskeyEvents');
  }

  added(userId: number, passkeyId: number): void {
    this.logger.info({ event: 'passkey_added', user_id: userId, passkey_id: passkeyId }, 'passkey_added');
  }

  removed(userId: number, passkeyId: number): void {
    this.logger.info({ event: 'passkey_removed', user_id: userId, passkey_id: passkeyId }, 'passkey_removed');
  }

  refused(
    ceremony: 'registration' | 'authentication' | 'reauthentication',
    reason: PasskeyRefusal,
    userId: number | null,
    ip: string | null,
  ): void {
    this.logger.warn({ event: 'passkey_refused', ceremony, reason, user_id: userId, ip }, 'passkey_refused');
  }

  /**
   * A valid signature whose counter did not go up: the credential may have been cloned (WebAuthn
   * §6.1.1). Refused; the owner should look at their passkeys.
   */
  counterRegression(userId: number, passkeyId: number, stored: number, received: number, ip: string | null): void {
    this.logger.warn(
      { event: 'passkey_counter_regression', user_id: userId, passkey_id: passkeyId, stored, received, ip },
      'passkey_counter_regression',
    );
  }
}
