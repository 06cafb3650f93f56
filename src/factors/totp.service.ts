import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { toString as qrSvg } from 'qrcode';
import { Clock } from '../common/clock';
import { Transactions, type Transaction } from '../common/database/transactions';
import { appConfig, type AppConfig } from '../config/app.config';
import type { Session } from '../sessions/session.entity';
import { SessionsService } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import {
  generateRecoveryCode,
  hashRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeKey,
} from './recovery-codes';
import { TotpEvents } from './totp-events';
import { TotpNotices } from './totp-notices';
import { TotpRepository } from './totp.repository';
import {
  decryptTotpSecret,
  encryptTotpSecret,
  generateTotpSecret,
  matchingStep,
  totpOf,
  totpSecretKey,
} from './totp-secret';

export const WRONG_CODE = 'The code is not correct (or was already used); type the current one from your app';
export const NO_PENDING_SETUP = 'No authenticator app is being set up; start with POST /totp/setup';
export const ALREADY_ON = 'An authenticator app is already on; turn it off first (DELETE /totp)';
export const NOT_ON = 'No authenticator app is on for this account';

export interface TotpSetup {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

type Caller = { user: User; session: Session };

/**
 * An account's authenticator app (RFC 6238) and its recovery codes. Setting up gives a pending
 * secret; a first code confirms it (the app is on) and makes ten recovery codes, shown once.
 * A code counts once: its time step is recorded, and no code of that step or an earlier one is
 * accepted again (RFC 6238 section 5.2). Setting up, turning off and making new recovery codes
 * need a recent password (as ending other sessions does); each change mails the owner a notice.
 */
@Injectable()
export class TotpService {
  private readonly secretKey: Buffer;
  private readonly codeKey: Buffer;

  constructor(
    private readonly factors: TotpRepository,
    private readonly sessions: SessionsService,
    private readonly transactions: Transactions,
    private readonly notices: TotpNotices,
    private readonly events: TotpEvents,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.secretKey = totpSecretKey(config.secretKey);
    this.codeKey = recoveryCodeKey(config.secretKey);
  }

  /** Whether the account's sign-ins need the second factor. */
  isOn(userId: number): Promise<boolean> {
    return this.factors.isConfirmed(userId);
  }

  /**
   * POST /totp/setup: a new secret, pending until confirmed (a pending one before it is replaced).
   * 409 while an app is on: turning it off first keeps "which app works" unambiguous.
   */
  async setup({ user, session }: Caller): Promise<TotpSetup> {
    this.sessions.assertRecentAuth(session);
    const secret = generateTotpSecret();
    const placed = await this.factors.replacePending({
      userId: user.id,
      secretEncrypted: encryptTotpSecret(secret, user.id, this.secretKey),
      createdAt: this.clock.now(),
    });
    if (!placed) throw new ConflictException(ALREADY_ON);
    this.events.changed('totp_setup', user.id, session.id);
    const otpauthUri = totpOf(secret, user.email).toString();
    return {
      secret,
      otpauthUri,
      qrSvg: await qrSvg(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
    };
  }

  /**
   * POST /totp/confirm: a code from the app turns the pending secret on and makes the first
   * recovery codes, in one transaction with the notice. Returns the codes (the only time they
   * exist outside the owner's hands) and how many other sessions the account has.
   */
  async confirm({ user, session }: Caller, code: string): Promise<{ recoveryCodes: string[]; otherSessions: number }> {
    const factor = await this.factors.findWithSecret(user.id);
    // A 400 like a wrong code: the request is the same, only the account's state tells them apart.
    if (!factor || factor.confirmedAt !== null) throw new BadRequestException(NO_PENDING_SETUP);
    const now = this.clock.now();
    const step = this.stepOf(factor.secretEncrypted, user, code, now);
    if (step === null) throw new BadRequestException(WRONG_CODE);
    const recoveryCodes = await this.transactions.run(async (tx) => {
      if (!(await this.factors.useStep(user.id, step, now, true, tx))) return null;
      const codes = await this.replaceRecoveryCodes(user.id, now, tx);
      await this.notices.turnedOn(user, now, tx);
      return codes;
    });
    // Confirmed by a concurrent request, or the code's step already used.
    if (!recoveryCodes) throw new BadRequestException(WRONG_CODE);
    this.events.changed('totp_enabled', user.id, session.id);
    return { recoveryCodes, otherSessions: await this.otherSessions(session) };
  }

  /** DELETE /totp: the app and its recovery codes gone; 404 (nothing changed) when it was not on. */
  async turnOff({ user, session }: Caller): Promise<{ otherSessions: number }> {
    this.sessions.assertRecentAuth(session);
    const wasOn = await this.transactions.run(async (tx) => {
      const confirmed = await this.factors.deleteConfirmed(user.id, tx);
      if (confirmed) await this.notices.turnedOff(user, this.clock.now(), tx);
      return confirmed;
    });
    if (!wasOn) throw new NotFoundException(NOT_ON);
    this.events.changed('totp_disabled', user.id, session.id);
    return { otherSessions: await this.otherSessions(session) };
  }

  /** POST /recovery_codes: ten new codes, the old ones void; only while the app is on. */
  async newRecoveryCodes({ user, session }: Caller): Promise<string[]> {
    this.sessions.assertRecentAuth(session);
    const codes = await this.transactions.run(async (tx) => {
      if (!(await this.factors.isConfirmed(user.id, tx))) return null;
      const now = this.clock.now();
      const fresh = await this.replaceRecoveryCodes(user.id, now, tx);
      await this.notices.newRecoveryCodes(user, now, tx);
      return fresh;
    });
    if (!codes) throw new NotFoundException(NOT_ON);
    this.events.changed('recovery_codes_generated', user.id, session.id);
    return codes;
  }

  /**
   * The second step of a sign-in: whether `code` is the app's code of a step within the window that
   * no accepted code has reached yet; recording it, so the same code (or an older one) never
   * works again. False when the app is not on.
   */
  async useCode(user: Pick<User, 'id' | 'email'>, code: string): Promise<boolean> {
    const factor = await this.factors.findWithSecret(user.id);
    if (!factor || factor.confirmedAt === null) return false;
    const now = this.clock.now();
    const step = this.stepOf(factor.secretEncrypted, user, code, now);
    return step !== null && this.factors.useStep(user.id, step, now, false);
  }

  /** Uses one of the account's recovery codes (single use); false if it is none of its unused ones or the app is off. */
  async useRecoveryCode(userId: number, typed: string): Promise<boolean> {
    const code = normalizeRecoveryCode(typed);
    if (code === null || !(await this.factors.isConfirmed(userId))) return false;
    return this.factors.useRecoveryCode(userId, hashRecoveryCode(code, this.codeKey), this.clock.now());
  }

  /** How many recovery codes the account has left (for the notice of one used). */
  recoveryCodesLeft(userId: number, tx?: Transaction): Promise<number> {
    return this.factors.unusedRecoveryCodes(userId, tx);
  }

  private stepOf(secretEncrypted: string, user: Pick<User, 'id' | 'email'>, code: string, at: Date): number | null {
    const secret = decryptTotpSecret(secretEncrypted, user.id, this.secretKey);
    // Undecryptable (SECRET_KEY changed): no code can match, never a way around the factor.
    if (secret === null) return null;
    return matchingStep(totpOf(secret, user.email), code, at);
  }

  private async replaceRecoveryCodes(userId: number, now: Date, tx: Transaction): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
    const hashes = codes.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!, this.codeKey));
    await this.factors.replaceRecoveryCodes(userId, hashes, now, tx);
    return codes;
  }

  /** The account's usable sessions besides the caller's: what the dashboard offers to end. */
  private async otherSessions(session: Session): Promise<number> {
    const all = await this.sessions.countUsable({ id: session.userId, credentialVersion: session.credentialVersion });
    return Math.max(0, all - 1);
  }
}
