import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { appConfig, type AppConfig } from '../config/app.config';
import type { User } from '../users/user.entity';
import type { PendingSignIn } from './pending-sign-in.entity';
import { PasskeysService } from './passkeys.service';
import { PendingSignInsRepository } from './pending-sign-ins.repository';
import { TotpService } from './totp.service';

/** Seconds a right password waits for the second factor. */
export const PENDING_SIGN_IN_SECONDS = 300;
/** Codes one pending sign-in may try; the fifth wrong one spends it. */
export const PENDING_SIGN_IN_ATTEMPTS = 5;

/** How the second step can be given (`passkey`: POST /login/passkey is the other way through). */
export type SecondFactorMethod = 'otp' | 'recovery_code' | 'passkey';

export interface PendingSignInStarted {
  /** The raw token: the `second_factor` cookie (and `pending_token` when asked for), nowhere else. */
  token: string;
  expiresIn: number;
  methods: SecondFactorMethod[];
}

/** The token's shape (43 base64url characters), checked before any lookup. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Sign-ins waiting for the second factor: a right password on an account with the authenticator
 * app on starts one instead of a session. It is a row of its own table with a token of its own
 * (256 random bits, stored as an HMAC under a key derived from SECRET_KEY for this use only), so
 * nothing that checks sessions can ever take it for one. It lasts PENDING_SIGN_IN_SECONDS, tries
 * at most PENDING_SIGN_IN_ATTEMPTS codes, finishes once, and holds the credential version the
 * password was read at: a password change or reset, a disable or an "end all" since makes it void.
 */
@Injectable()
export class PendingSignIns {
  private readonly key: Buffer;

  constructor(
    private readonly rows: PendingSignInsRepository,
    private readonly totp: TotpService,
    private readonly passkeys: PasskeysService,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.key = createHmac('sha256', config.secretKey).update('pending-sign-in').digest();
  }

  /**
   * After a right password: a pending sign-in when the account's sign-ins need a second factor,
   * else null (the caller starts the session). `found` is the row the password was checked against.
   */
  async beginIfRequired(
    found: Pick<User, 'id' | 'credentialVersion'>,
    rememberMe: boolean | null,
  ): Promise<PendingSignInStarted | null> {
    if (!(await this.totp.isOn(found.id))) return null;
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    // The account's finished and expired rows go as a new one comes: the table holds what can still be used.
    await this.rows.deleteDoneOf(found.id, now);
    await this.rows.insert({
      tokenHash: this.hash(token),
      userId: found.id,
      credentialVersion: found.credentialVersion,
      rememberMe,
      createdAt: now,
      expiresAt: new Date(now.getTime() + PENDING_SIGN_IN_SECONDS * 1000),
      attempts: 0,
      usedAt: null,
    });
    // A passkey is the other way through (POST /login/passkey): offered when the account has one.
    const hasPasskey = (await this.passkeys.list(found.id)).length > 0;
    return {
      token,
      expiresIn: PENDING_SIGN_IN_SECONDS,
      methods: hasPasskey ? ['otp', 'recovery_code', 'passkey'] : ['otp', 'recovery_code'],
    };
  }

  /** The token's pending sign-in if it can still take a code now (unused, unexpired, tries left); else null. */
  async findUsable(token: string): Promise<PendingSignIn | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const row = await this.rows.findByHash(this.hash(token));
    if (!row || row.usedAt !== null || row.attempts >= PENDING_SIGN_IN_ATTEMPTS) return null;
    return row.expiresAt.getTime() > this.clock.now().getTime() ? row : null;
  }

  /** Takes one of the row's tries before a code is checked; false when none is left (or it was used or expired meanwhile). */
  countAttempt(row: PendingSignIn): Promise<boolean> {
    return this.rows.countAttempt(row.id, PENDING_SIGN_IN_ATTEMPTS, this.clock.now());
  }

  /** Whether the try just counted was the row's last. */
  wasLastAttempt(row: PendingSignIn): boolean {
    return row.attempts + 1 >= PENDING_SIGN_IN_ATTEMPTS;
  }

  /** Ends the row: finished (exactly one request can), or spent. Whether this call did. */
  finish(row: PendingSignIn): Promise<boolean> {
    return this.rows.markUsed(row.id, this.clock.now());
  }

  /** For the cleanup job: rows that expired before `cutoff` (those of accounts that never signed in again). */
  deleteExpiredBefore(cutoff: Date): Promise<number> {
    return this.rows.deleteExpiredBefore(cutoff);
  }

  private hash(token: string): string {
    return createHmac('sha256', this.key).update(token).digest('hex');
  }
}
