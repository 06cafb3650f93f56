import {
  BadRequestException,
  ConflictException,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { Clock } from '../common/clock';
import { Transactions } from '../common/database/transactions';
import { credentialsChanged, HttpErrorWithHeaders } from '../common/http-error';
import { Mailer } from '../mail/mailer';
import { AuthEvents } from '../sessions/auth-events';
import { LifecycleEvents, userKey } from '../sessions/lifecycle-events';
import type { RequestAuth } from '../sessions/request-auth.decorators';
import type { Session } from '../sessions/session.entity';
import type { ClientInfo } from '../sessions/sessions.service';
import { SessionsService } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AfterResponse } from './after-response';
import { AuthService } from './auth.service';
import type { EmailTokenPurpose } from './email-token.entity';
import { EmailTokens } from './email-tokens.service';
import { Notices } from './notices';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy';
import { RecoveryMails } from './recovery-mails';

/** The one answer to "forgot password", whatever the address. */
export const RESET_REQUESTED = 'If an account uses this address, a link to reset its password is on its way.';
/** The one answer to a signed-out "resend verification", whatever the address. */
export const VERIFICATION_REQUESTED =
  'If an account with an unconfirmed address uses this address, a new confirmation link is on its way.';
export const VERIFICATION_SENT = 'A new confirmation link is on its way to your address.';
export const EMAIL_CHANGE_REQUESTED =
  'A confirmation link is on its way to the new address; your address changes when it is used.';
export const ALREADY_VERIFIED = 'Your e-mail address is already confirmed';
export const INVALID_LINK = 'This link is not valid: it was already used, a newer one was sent, or it expired';
export const MAIL_UNAVAILABLE =
  'This server cannot send mail (MAIL_URL is not set), so password reset and e-mail confirmation are unavailable';

/** Every token a password reset or an e-mail change leaves behind is made void with it. */
const ALL_PURPOSES: readonly EmailTokenPurpose[] = ['reset_password', 'verify_email', 'change_email'];

function invalidLink(): BadRequestException {
  return new BadRequestException(INVALID_LINK);
}

/**
 * Account recovery by mail: "forgot password" and the reset, the confirmation of an address (at
 * signup, or a new one), and the e-mail change. Tokens are EmailTokens'; the mails that carry them
 * are RecoveryMails'; every change here runs in one transaction with the use of its token and the
 * notice it mails, so a link is spent if and only if its change committed.
 */
@Injectable()
export class RecoveryService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly auth: AuthService,
    private readonly tokens: EmailTokens,
    private readonly mails: RecoveryMails,
    private readonly notices: Notices,
    private readonly mailer: Mailer,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly events: AuthEvents,
    private readonly later: AfterResponse,
    private readonly lifecycle: LifecycleEvents,
  ) {}

  /**
   * POST /forgot_password. The answer is the same, and takes the same time, for every address: it
   * is given before anything about the address is looked up. The lookup, the per-account limit,
   * the token and the mail follow in this process right after the response (AfterResponse), so
   * neither the body nor the time tells whether an account uses the address. Only an active
   * account is mailed, at most MAIL_TOKENS_PER_HOUR times an hour.
   */
  forgotPassword(email: string): string {
    this.assertMailAvailable();
    this.later.run('forgot_password', () => this.mailIfAccount(email, 'reset_password'));
    return RESET_REQUESTED;
  }

  /**
   * POST /resend_verification.
   * - With `email` (signed in or not; signed out is what REQUIRE_VERIFIED_EMAIL leaves an
   *   unconfirmed account): answered like forgotPassword, the same at once for every address; an
   *   active account whose address is still unconfirmed is mailed afterwards.
   * - Without it, signed in: a new link for the caller's address. The caller knows its own account,
   *   so it is told what happened: 409 if the address is confirmed already, 429 once the hourly
   *   limit of links is reached.
   */
  async resendVerification(email: string | undefined, caller: User | undefined): Promise<string> {
    this.assertMailAvailable();
    if (email !== undefined) {
      this.later.run('resend_verification', () => this.mailIfAccount(email, 'verify_email'));
      return VERIFICATION_REQUESTED;
    }
    if (!caller) throw new BadRequestException(['email must be given when not signed in']);
    return this.resendToCaller(caller);
  }

  private async resendToCaller(user: User): Promise<string> {
    if (user.emailVerified) throw new ConflictException(ALREADY_VERIFIED);
    const wait = await this.transactions.run(async (tx) => {
      await this.users.lock(user.id, tx);
      const capped = await this.tokens.capReached(user.id, ['verify_email'], tx);
      if (capped === null) await this.mails.verification(user, tx);
      return capped;
    });
    this.events.recoveryMail(user.id, 'verify_email', wait !== null);
    if (wait !== null) throw tooManyLinks(wait);
    return VERIFICATION_SENT;
  }

  /**
   * POST /reset_password. The token is checked first (an unknown one costs no hashing); then, in one
   * transaction, the token is used (the conditional UPDATE decides between two requests racing with
   * it), the password replaced as a credential change (every session of the account stops working,
   * logins in flight included), every session ended with reason `password_reset`, the address marked
   * verified (the link reached it), the account's other links made void (a pending e-mail change
   * asked for by someone else among them) and the notice queued. It does not sign in.
   */
  async resetPassword(token: string, newPassword: string): Promise<number> {
    const row = await this.tokens.findUsable(token, ['reset_password']);
    const user = row && (await this.users.findById(row.userId));
    if (!row || !user || !user.isActive || user.email !== row.email) throw invalidLink();
    this.policy.assertAcceptable(newPassword, 'new_password');
    const passwordHash = await this.hasher.hash(newPassword);
    const now = this.clock.now();
    const revoked = await this.transactions.run(async (tx) => {
      // Nothing written yet when it fails: returning leaves nothing to roll back.
      if (!(await this.tokens.consume(token, ['reset_password'], tx))) return undefined;
      await this.users.changeCredentials(user.id, { passwordHash, emailVerified: true }, tx);
      const ended = await this.sessions.endAll(user.id, 'password_reset', tx);
      await this.tokens.voidUnused(user.id, ALL_PURPOSES, tx);
      await this.notices.passwordChanged(user, 'reset', now, tx);
      const data = { user_id: user.id, via: 'reset' as const, changed_at: now.toISOString() };
      await this.lifecycle.emit('user.password_changed', data, userKey(user.id), tx);
      return ended;
    });
    if (revoked === undefined) throw invalidLink();
    this.events.passwordReset(user.id, revoked);
    return revoked;
  }

  /**
   * POST /verify_email: uses a link sent to an address. A `verify_email` link confirms the account's
   * address (if it is still that one). A `change_email` link makes its address the account's: a
   * credential change, only if none happened since the link was sent (a password change or reset,
   * an "end all" in between makes it void), that ends every other session (reason `revoked`). The
   * session confirming it, if it is the account's own, is carried over to the new credential version
   * in the same transaction and stays usable, with its token unchanged: nothing about it was
   * exposed, and the route being public (the link may be opened on another device), it sets no
   * cookie. 409 if another account took the address since.
   */
  async verifyEmail(token: string, auth: RequestAuth): Promise<User> {
    const row = await this.tokens.findUsable(token, ['verify_email', 'change_email']);
    const user = row && (await this.users.findById(row.userId));
    if (!row || !user || !user.isActive) throw invalidLink();
    const purpose = row.purpose;
    const keep: Session | null = auth.session && auth.session.userId === user.id ? auth.session : null;
    const revoked = await this.transactions.run(async (tx) => {
      if (!(await this.tokens.consume(token, [purpose], tx))) return undefined;
      if (purpose === 'verify_email') {
        // The account's address changed since the link was sent: it confirms nothing now.
        if (!(await this.users.markEmailVerified(user.id, row.email, tx))) throw invalidLink();
        return 0;
      }
      if (!(await this.users.changeEmail(user.id, row.email, row.credentialVersion, tx))) throw invalidLink();
      if (keep) await this.sessions.keepAcrossCredentialChange(keep.id, row.credentialVersion, tx);
      const ended = keep
        ? await this.sessions.endOthers(user.id, keep.id, 'revoked', tx)
        : await this.sessions.endAll(user.id, 'revoked', tx);
      // Links sent to the old address (a reset among them) must not outlive it.
      await this.tokens.voidUnused(user.id, ALL_PURPOSES, tx);
      return ended;
    });
    if (revoked === undefined) throw invalidLink();
    if (keep && purpose === 'change_email') keep.credentialVersion = row.credentialVersion + 1;
    this.events.emailConfirmed(user.id, purpose === 'change_email' ? 'changed' : 'verified', revoked);
    return (await this.users.findById(user.id)) ?? user;
  }

  /**
   * POST /change_email: the password (guessed under the login limits, like /change_password), then a
   * link to the new address and a notice to the current one, in one transaction. The address changes
   * only when the link is used (verifyEmail). 409 if an account has the address already; 429 past
   * MAIL_TOKENS_PER_HOUR requests an hour.
   */
  async changeEmail(
    auth: Required<Pick<RequestAuth, 'user' | 'session'>>,
    password: string,
    newEmail: string,
    client: ClientInfo,
  ): Promise<string> {
    this.assertMailAvailable();
    const version = auth.session.credentialVersion;
    const stored = await this.users.findWithPasswordHashById(auth.user.id);
    if (stored && stored.credentialVersion !== version) throw credentialsChanged();
    const check = await this.auth.checkThrottled(auth.user.email, client.ipAddress, password, stored?.passwordHash);
    if (!stored || !check.ok) throw new UnauthorizedException('Password is incorrect');
    if (newEmail === stored.email) throw new BadRequestException(['new_email is already the address of this account']);
    await this.users.assertEmailFree(newEmail);
    const now = this.clock.now();
    const wait = await this.transactions.run(async (tx) => {
      await this.users.lock(stored.id, tx);
      const capped = await this.tokens.capReached(stored.id, ['change_email'], tx);
      if (capped !== null) return capped;
      await this.mails.emailChange(stored, newEmail, tx);
      await this.notices.emailChangeRequested(stored, newEmail, now, tx);
      return null;
    });
    this.events.recoveryMail(stored.id, 'change_email', wait !== null);
    if (wait !== null) throw tooManyLinks(wait);
    return EMAIL_CHANGE_REQUESTED;
  }

  /** Settles when the work deferred past the responses is done (tests). */
  idle(): Promise<void> {
    return this.later.idle();
  }

  /** Production without MAIL_URL: the routes that mail answer 503 rather than promise a mail. */
  private assertMailAvailable(): void {
    if (!this.mailer.available) throw new ServiceUnavailableException(MAIL_UNAVAILABLE);
  }

  /** The deferred half of forgotPassword and resendVerificationTo. */
  private async mailIfAccount(email: string, purpose: 'reset_password' | 'verify_email'): Promise<void> {
    const user = await this.users.findByEmail(email);
    if (!user || !user.isActive || (purpose === 'verify_email' && user.emailVerified)) return;
    const capped = await this.transactions.run(async (tx) => {
      await this.users.lock(user.id, tx);
      if ((await this.tokens.capReached(user.id, [purpose], tx)) !== null) return true;
      if (purpose === 'reset_password') await this.mails.passwordReset(user, this.clock.now(), tx);
      else await this.mails.verification(user, tx);
      return false;
    });
    this.events.recoveryMail(user.id, purpose, capped);
  }
}

function tooManyLinks(retryAfterSeconds: number): HttpErrorWithHeaders {
  return new HttpErrorWithHeaders(
    429,
    'Too many links were mailed for this account in the last hour; try again later',
    {
      'Retry-After': String(retryAfterSeconds),
    },
  );
}
