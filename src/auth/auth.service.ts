import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthEvents } from '../sessions/auth-events';
import { LifecycleEvents, sessionKey, userKey } from '../sessions/lifecycle-events';
import { Clock } from '../common/clock';
import type { RequestAuth } from '../sessions/request-auth.decorators';
import { Transactions, type Transaction } from '../common/database/transactions';
import { HttpErrorWithHeaders } from '../common/http-error';
import { appConfig, type AppConfig } from '../config/app.config';
import type { AuthMethod, EndReason, Session } from '../sessions/session.entity';
import { parseDevice } from '../sessions/device';
import { GeoIp } from '../sessions/geoip.service';
import { authMethodsOf } from '../sessions/dto/session.dto';
import { SessionsService, type ClientInfo, type ClientOrigin } from '../sessions/sessions.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { credentialsChanged } from '../common/http-error';
import type { ChangePasswordDto } from './dto/change-password.dto';
import type { LoginDto } from './dto/login.dto';
import type { SignupDto } from './dto/signup.dto';
import type { LoginAttempt } from './login-attempt.entity';
import type { KnownDevices } from './device-cookie';
import { LoginAttemptsService } from './login-attempts.service';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher, type PasswordCheck } from './password-hasher.service';
import { PasswordPolicy } from './password-policy';
import { Notices } from './notices';
import { emailNotVerified, unauthorized } from './auth-failure';
import { RecoveryMails } from './recovery-mails';
import { PendingSignIns, type PendingSignInStarted } from '../factors/pending-sign-ins.service';
import { TotpEvents } from '../factors/totp-events';

export const INVALID_CREDENTIALS = 'Invalid email or password';

export interface LoginResult {
  user: User;
  session: Session;
  token: string;
}

/** A right password on an account with a second factor: no session yet (POST /login/second_factor). */
export interface SecondFactorRequired {
  secondFactor: PendingSignInStarted;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly throttle: LoginThrottle,
    private readonly attempts: LoginAttemptsService,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly events: AuthEvents,
    private readonly geoip: GeoIp,
    private readonly notices: Notices,
    private readonly mails: RecoveryMails,
    private readonly pendingSignIns: PendingSignIns,
    private readonly totpEvents: TotpEvents,
    private readonly lifecycle: LifecycleEvents,
  ) {}

  async signup(dto: SignupDto): Promise<User> {
    // Checked first so a taken email costs no bcrypt work; the unique index still decides races.
    await this.users.assertEmailFree(dto.email);
    this.policy.assertAcceptable(dto.password, 'password');
    const passwordHash = await this.hasher.hash(dto.password);
    // The verification link is queued with the account: both commit, or neither.
    return this.transactions.run(async (tx) => {
      const user = await this.users.create({ name: dto.name, phone: dto.phone, email: dto.email, passwordHash }, tx);
      await this.mails.verification(user, tx);
      return user;
    });
  }

  /**
   * Throttles, checks the password (an unknown email costs the same bcrypt compare as a wrong
   * password, and both get one message), records the attempt, then in one transaction ends the
   * session the request already carried (no fixation, no orphans), starts a new one within the
   * per-user cap, and records the login time. The session remembers the login's remember_me, its
   * device and country, and whether that device family and country are new for the account.
   */
  async login(
    dto: LoginDto,
    client: ClientInfo,
    previous: RequestAuth,
    devices?: KnownDevices,
  ): Promise<LoginResult | SecondFactorRequired> {
    const found = await this.users.findWithPasswordHash(dto.email);
    const origin = this.originOf(client);
    const { country } = origin;
    const attempt = (reason: LoginAttempt['reason'], tx?: Transaction, newDevice?: boolean) =>
      this.attempts.record({ email: dto.email, userId: found?.id ?? null, reason, client, country, newDevice }, tx);

    const check = await this.checkThrottled(
      dto.email,
      client.ipAddress,
      dto.password,
      found?.passwordHash,
      async (retryAfter) => {
        await this.transactions.run(async (tx) => {
          await attempt('throttled', tx);
          const data = { user_id: found?.id ?? null, retry_after_s: retryAfter, at: this.clock.now().toISOString() };
          await this.lifecycle.emit('login.failed_throttled', data, found ? userKey(found.id) : null, tx);
        });
        this.events.loginThrottled(retryAfter, found?.id ?? null, client.ipAddress);
      },
      found ? (devices?.nonceFor(found.id) ?? null) : null,
    );
    if (!found || !check.ok) {
      await attempt('bad_password');
      this.events.loginFailed('bad_password', found?.id ?? null, client.ipAddress);
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    await this.assertMaySignIn(found, attempt, client.ipAddress);
    // The authenticator app on: a pending sign-in instead of a session, recorded as such.
    const pending = await this.pendingSignIns.beginIfRequired(found, dto.remember_me ?? null);
    if (pending) {
      await attempt('second_factor');
      this.totpEvents.secondFactorRequired(found.id, client.ipAddress);
      await this.rehashIfStale(found, dto.password, check);
      return { secondFactor: pending };
    }

    const result = await this.completeSignIn(found, ['pwd'], dto.remember_me ?? null, client, previous, attempt);
    if (!result) return this.refuseRacedLogin(found, attempt, client.ipAddress);
    // After the commit, so the login's own transaction never sees its hash move under it.
    await this.rehashIfStale(found, dto.password, check);
    return result;
  }

  /**
   * The refusals every sign-in shares once the proof (a password, a passkey) checked out: a
   * disabled account (403), and with REQUIRE_VERIFIED_EMAIL an unconfirmed address (403
   * `email_not_verified`); each recorded and logged.
   */
  async assertMaySignIn(
    found: User,
    attempt: (reason: LoginAttempt['reason']) => Promise<unknown>,
    ip: string | null,
  ): Promise<void> {
    if (!found.isActive) {
      await attempt('account_disabled');
      this.events.loginFailed('account_disabled', found.id, ip);
      throw new ForbiddenException('This account is disabled');
    }
    if (this.config.requireVerifiedEmail && !found.emailVerified) {
      await attempt('email_not_verified');
      this.events.loginFailed('email_not_verified', found.id, ip);
      throw emailNotVerified();
    }
  }

  /**
   * What every sign-in does once the account has proved who it is (a password, a passkey, a second
   * factor), in one transaction: records the login, ends the session the request already carried
   * (no fixation, no orphans), starts a new one under the credential version `found` was read at,
   * within the per-user cap, flags (and mails) a new device, and records the successful attempt.
   * Returns undefined, having written nothing, when the account changed since `found` was read (its
   * credential version moved on, or it was disabled): the caller answers that (AuthService.login
   * refuseRacedLogin; others 409). `found` must come with its credential_version from the same read
   * as the proof was checked against.
   */
  async completeSignIn(
    found: User,
    methods: readonly AuthMethod[],
    rememberMe: boolean | null,
    client: ClientInfo,
    previous: RequestAuth,
    attempt: (reason: LoginAttempt['reason'], tx?: Transaction, newDevice?: boolean) => Promise<unknown>,
  ): Promise<LoginResult | undefined> {
    const { passwordHash: _hash, ...user } = found;
    // The credential version read with the proof just checked: the session is born under it.
    const version = found.credentialVersion;
    const origin = this.originOf(client);
    let capped = 0;
    const result = await this.transactions.run(async (tx) => {
      const now = this.clock.now();
      // Written first, and only if the account is still active at `version` (else nothing is
      // written and the sign-in fails). Race-free against every credential change, which moves
      // the version on in one statement (UsersService.changeCredentials):
      // - a change that commits before this statement: on PostgreSQL (READ COMMITTED) the statement
      //   either starts after it or waits for its row lock and re-checks the row, and on SQLite
      //   (one connection, one statement at a time) it simply runs after it: 0 rows, no session;
      // - a change after it: the session below carries `version`, which is stale from then on, and
      //   the guard refuses it, whether or not the change's own ending of sessions saw it (on
      //   PostgreSQL the change waits for this row lock, so it does see it and ends it).
      // The row lock also makes concurrent logins of this user take turns on PostgreSQL, so the cap
      // below counts every session committed before it.
      if (!(await this.users.recordLogin(user.id, now, version, tx))) return undefined;
      // Compared with every session row of the account still kept (active or ended). An account's
      // first login ever (no last_login yet) has nothing to compare with and is not flagged: an
      // alert on first use is noise. An account whose old sessions were all deleted after
      // RETENTION_DAYS is flagged, since a sign-in into a dormant account deserves the notice.
      const newDevice = found.lastLogin !== null && !(await this.sessions.hasSignedInFrom(user.id, origin, tx));
      if (previous.session) await this.sessions.end(previous.session.id, 'logged_out', now, tx);
      const { session, token } = await this.sessions.start(
        found,
        client,
        { rememberMe, origin, newDevice, credentialVersion: version, authMethods: methods },
        tx,
      );
      capped = await this.sessions.enforceCap(user.id, session.id, version, this.config.maxSessionsPerUser, tx);
      // In the login's transaction: the notice exists if and only if the session does.
      if (newDevice && this.config.notifyNewDevice) await this.notices.newDevice(found, session, tx);
      if (newDevice) {
        const { browser, os } = origin.device;
        const data = { user_id: user.id, session_id: session.id, browser, os, country: origin.country };
        await this.lifecycle.emit('login.new_device', { ...data, at: now.toISOString() }, sessionKey(session.id), tx);
      }
      await attempt('ok', tx, newDevice);
      return { user: { ...user, lastLogin: now } as User, session, token };
    });
    if (!result) return undefined;
    if (previous.session) this.events.logout(previous.session.userId, previous.session.id);
    if (capped > 0) this.events.sessionRevoked(user.id, 'session_cap', { count: capped });
    this.events.loginSucceeded(user.id, result.session.id, client.ipAddress);
    if (result.session.newDevice) this.events.newDeviceLogin(user.id, result.session.id, origin);
    return result;
  }

  /**
   * A login whose password was right but whose account changed before it could record itself
   * (recordLogin found another credential version, or the account disabled). It answers what a
   * login starting now would get: the password changed → the same 401 as a wrong password; the
   * account disabled → 403; its sessions ended ("end all", an administrator) → 409, so the client
   * can tell it to sign in again rather than that its password is wrong. No session is made.
   */
  private async refuseRacedLogin(
    found: User,
    attempt: (reason: LoginAttempt['reason']) => Promise<unknown>,
    ip: string | null,
  ): Promise<never> {
    const now = await this.users.findWithPasswordHashById(found.id);
    if (!now || now.passwordHash !== found.passwordHash) {
      await attempt('bad_password');
      this.events.loginFailed('bad_password', found.id, ip);
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    if (!now.isActive) {
      await attempt('account_disabled');
      this.events.loginFailed('account_disabled', found.id, ip);
      throw new ForbiddenException('This account is disabled');
    }
    throw credentialsChanged();
  }

  /**
   * Changes the password after checking the current one, ends every other session of the user,
   * and replaces the caller's session with a fresh one (new token), all in one transaction. The
   * replacement keeps the old session's remember_me and its absolute expiry: changing the password
   * must not be a way to stretch a session past the lifetime its login gave it. Its device and
   * country are those of this request, like its address; it is never flagged as a new sign-in.
   *
   * A credential change (UsersService.changeCredentials), made only if the account is still at the
   * version of the caller's session and that session is still active: of two changes racing from
   * one session (or any change racing another credential change), one wins and the other gets 409
   * and changes nothing. Logins with the old password still in flight get no usable session.
   */
  async changePassword(
    auth: Required<Pick<RequestAuth, 'user' | 'session'>>,
    dto: ChangePasswordDto,
    client: ClientInfo,
  ): Promise<{ revoked: number; session: Session; token: string }> {
    const version = auth.session.credentialVersion;
    const stored = await this.users.findWithPasswordHashById(auth.user.id);
    // Changed since the guard read it: this session is stale, and the hash may be a new one.
    if (stored && stored.credentialVersion !== version) throw credentialsChanged();
    // The current password is guessed under the same limits as a login, so a stolen session
    // cannot be used to try passwords faster than the sign-in form allows.
    // A stale hash is not re-made here: the new password replaces it anyway.
    const current = await this.checkThrottled(
      auth.user.email,
      client.ipAddress,
      dto.current_password,
      stored?.passwordHash,
    );
    if (!stored || !current.ok) throw new UnauthorizedException('Current password is incorrect');
    this.policy.assertAcceptable(dto.new_password, 'new_password');
    const passwordHash = await this.hasher.hash(dto.new_password);
    const result = await this.transactions.run(async (tx) => {
      const changed = await this.users.changeCredentials(
        stored.id,
        { passwordHash, ifVersion: version, whileSessionActive: auth.session.id },
        tx,
      );
      // Nothing written yet: returning (not throwing) leaves nothing to roll back.
      if (!changed) return undefined;
      const now = this.clock.now();
      const revoked = await this.sessions.endOthers(stored.id, auth.session.id, 'revoked', tx);
      await this.sessions.end(auth.session.id, 'revoked', now, tx);
      await this.notices.passwordChanged(stored, 'changed', now, tx);
      const changedAt = now.toISOString();
      const data = { user_id: stored.id, via: 'change' as const, changed_at: changedAt };
      await this.lifecycle.emit('user.password_changed', data, userKey(stored.id), tx);
      const { session, token } = await this.sessions.start(
        stored,
        client,
        {
          rememberMe: auth.session.rememberMe,
          origin: this.originOf(client),
          newDevice: false,
          expiresAt: auth.session.expiresAt,
          credentialVersion: version + 1,
          // The replacement was made the way its predecessor was (a password change proves the password only).
          authMethods: authMethodsOf(auth.session),
        },
        tx,
      );
      return { revoked, session, token };
    });
    if (!result) throw credentialsChanged();
    this.events.passwordChanged(stored.id, result.revoked, auth.session.id, result.session.id);
    if (result.revoked > 0) this.events.sessionRevoked(stored.id, 'password_change', { count: result.revoked });
    return result;
  }

  /**
   * POST /reauthenticate: proves the password again in the current session ("sudo mode"), under
   * the same failed-login limits as a login, so a stolen session cannot be used to guess faster
   * than the sign-in form allows. A wrong password is a 401 that leaves the session as it is.
   */
  async reauthenticate(
    auth: Required<Pick<RequestAuth, 'user' | 'session'>>,
    password: string,
    client: ClientInfo,
  ): Promise<Date> {
    const stored = await this.users.findWithPasswordHashById(auth.user.id);
    const check = await this.checkThrottled(auth.user.email, client.ipAddress, password, stored?.passwordHash);
    if (!stored || !check.ok) {
      this.events.reauthFailed(auth.user.id, auth.session.id, client.ipAddress);
      throw new UnauthorizedException('Password is incorrect');
    }
    const authTime = await this.sessions.markReauthenticated(auth.session);
    this.events.reauthenticated(auth.user.id, auth.session.id);
    await this.rehashIfStale(stored, password, check);
    return authTime;
  }

  /**
   * Checks a password within the failed-login limits (LoginThrottle): 429 once a limit is reached,
   * whatever the password; a wrong password counts, a right one clears that account's count for
   * that address, and one never checked (503 from the hashing queue) does not count.
   * `deviceNonce` (a login from a known device, see device-cookie.ts) is counted under the
   * device's own limit instead, and hashes in the lane the flood cannot fill. Returns
   * PasswordHasher.check's answer (an object: test `.ok`, never the result itself). Public for the
   * other routes that take the password (POST /change_email), which guess under the same limits.
   */
  async checkThrottled(
    email: string,
    ip: string | null,
    password: string,
    hash: string | undefined,
    onThrottled?: (retryAfterSeconds: number) => Promise<void>,
    deviceNonce: string | null = null,
  ): Promise<PasswordCheck> {
    const throttle = await this.throttle.begin(email, ip, deviceNonce);
    if (!throttle.allowed) {
      await onThrottled?.(throttle.retryAfterSeconds);
      throw new HttpErrorWithHeaders(429, 'Too many failed sign-in attempts; try again later', {
        'Retry-After': String(throttle.retryAfterSeconds),
      });
    }
    let check: PasswordCheck;
    try {
      check = await this.hasher.check(password, hash, throttle.knownDevice ? 'known-device' : 'general');
    } catch (error) {
      await throttle.settle('cancelled');
      throw error;
    }
    await throttle.settle(check.ok ? 'success' : 'failure');
    return check;
  }

  /**
   * Re-makes a hash that PasswordHasher.check found stale (another cost than BCRYPT_ROUNDS,
   * $2a$/$2y$, or made from a non-NFC password), from the password just proved. The write only
   * lands if the stored hash is still the one checked (UsersService.rehashPassword), so a password
   * changed meanwhile is never overwritten; the same password re-hashed is no credential change, so
   * no session ends. It never fails the sign-in: a full hashing queue (503) or a failed write keeps
   * the old hash, which still matches and is re-made at a later sign-in.
   */
  private async rehashIfStale(user: Pick<User, 'id' | 'passwordHash'>, password: string, check: PasswordCheck) {
    if (!check.rehash) return;
    try {
      const hash = await this.hasher.hash(password);
      const replaced = await this.users.rehashPassword(user.id, user.passwordHash, hash);
      this.events.passwordRehashed(user.id, replaced ? 'rehashed' : 'changed');
    } catch (error) {
      this.events.passwordRehashed(user.id, error instanceof HttpErrorWithHeaders ? 'busy' : 'failed');
    }
  }

  loginActivity(user: User): Promise<LoginAttempt[]> {
    return this.attempts.latestFor(user.id);
  }

  /**
   * Disables an account and ends every active session of it, in one transaction (for operators
   * and the admin route; the guard also refuses a disabled user's sessions and ends them). A
   * credential change: a session from a login in flight stays unusable even after a re-enable.
   */
  async deactivateAccount(userId: number): Promise<void> {
    await this.transactions.run(async (tx) => {
      await this.users.changeCredentials(userId, { disable: true }, tx);
      const data = { user_id: userId, disabled_at: this.clock.now().toISOString() };
      await this.lifecycle.emit('user.disabled', data, userKey(userId), tx);
      await this.sessions.endAll(userId, 'account_disabled', tx);
    });
  }

  /**
   * Ends every session of the account, those of logins still in flight included (a credential
   * change, UsersService.changeCredentials); returns how many active ones it ended. For an
   * administrator's "end sessions"; a password reset does the same with a new hash.
   */
  async endAllSessions(userId: number, reason: EndReason): Promise<number> {
    return this.transactions.run(async (tx) => {
      await this.users.changeCredentials(userId, {}, tx);
      return this.sessions.endAll(userId, reason, tx);
    });
  }

  /** Ends the caller's session if it has one; logging out without one is not an error. */
  async logout(auth: RequestAuth): Promise<void> {
    if (auth.session && (await this.sessions.end(auth.session.id, 'logged_out')))
      this.events.logout(auth.session.userId, auth.session.id);
  }

  /** Where a request comes from: its device (parsed from User-Agent) and its address's country. */
  private originOf(client: ClientInfo): ClientOrigin {
    return { device: parseDevice(client.userAgent), country: this.geoip.countryOf(client.ipAddress) };
  }

  /**
   * The caller's session, or the 401 that says why there is none. `idleExpiresAt` (with an idle
   * timeout) is counted from last_activity as the guard left it on this request: the stored value,
   * which the guard rewrites at most once per activityWriteInterval, so it is the time the guard
   * itself will judge by, never later than the real deadline.
   */
  status(auth: RequestAuth): { user: User; session: Session; expiresIn: number; idleExpiresAt: Date | null } {
    if (!auth.user || !auth.session) throw unauthorized(auth.failure ?? 'missing');
    const { session } = auth;
    const expiresIn = Math.max(0, Math.floor((session.expiresAt.getTime() - this.clock.now().getTime()) / 1000));
    const idle = this.config.sessionIdleTimeout;
    const idleExpiresAt = idle > 0 ? new Date(session.lastActivity.getTime() + idle * 1000) : null;
    return { user: auth.user, session, expiresIn, idleExpiresAt };
  }
}
