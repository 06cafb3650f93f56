import { BadRequestException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Transaction } from '../common/database/transactions';
import { credentialsChanged, HttpErrorWithHeaders } from '../common/http-error';
import { PendingSignIns } from '../factors/pending-sign-ins.service';
import { TotpEvents } from '../factors/totp-events';
import { TotpNotices } from '../factors/totp-notices';
import { TotpService } from '../factors/totp.service';
import { GeoIp } from '../sessions/geoip.service';
import type { RequestAuth } from '../sessions/request-auth.decorators';
import type { ClientInfo } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import { AuthService, type LoginResult } from './auth.service';
import type { SecondFactorDto } from './dto/second-factor.dto';
import type { LoginAttempt } from './login-attempt.entity';
import { LoginAttemptsService } from './login-attempts.service';
import { LoginThrottle } from './login-throttle';

export const SIGN_IN_AGAIN =
  'This sign-in has expired, was finished or had too many wrong codes; sign in with your password again';
export const WRONG_SECOND_FACTOR = 'The code is not correct (or was already used)';
export const LAST_WRONG_SECOND_FACTOR =
  'The code is not correct, and that was the last try; sign in with your password again';
export const ONE_OF_CODE = 'Send either code or recovery_code';

/**
 * POST /login/second_factor: finishes a sign-in that POST /login left pending (the password was
 * right, the account has the authenticator app on) with a code from the app or a recovery code.
 *
 * - The pending sign-in is found by its token, usable only unused, unexpired and with tries left,
 *   and only while the account is at the credential version its password was read at.
 * - Codes are guessed under the failed-login limits (LoginThrottle), counted apart from passwords
 *   (keys of their own, so a right password does not clear them): 429 with Retry-After. Each code
 *   also takes one of the pending sign-in's five tries before it is checked; the fifth wrong one spends it.
 * - A right code is used once (TotpService), the pending sign-in finished once (of two requests
 *   with it exactly one gets on), and the session started by AuthService.completeSignIn under the
 *   credential version of the password: amr `pwd otp mfa`. A recovery code mails a notice, in the
 *   sign-in's transaction.
 */
@Injectable()
export class SecondFactorService {
  constructor(
    private readonly auth: AuthService,
    private readonly pending: PendingSignIns,
    private readonly totp: TotpService,
    private readonly users: UsersService,
    private readonly throttle: LoginThrottle,
    private readonly attempts: LoginAttemptsService,
    private readonly notices: TotpNotices,
    private readonly events: TotpEvents,
    private readonly geoip: GeoIp,
    private readonly clock: Clock,
  ) {}

  async complete(
    dto: SecondFactorDto,
    cookieToken: string | undefined,
    client: ClientInfo,
    previous: RequestAuth,
  ): Promise<LoginResult> {
    if ((dto.code === undefined) === (dto.recovery_code === undefined)) throw new BadRequestException([ONE_OF_CODE]);
    const method = dto.code !== undefined ? 'otp' : 'recovery_code';
    const token = dto.pending_token ?? cookieToken;
    const row = token ? await this.pending.findUsable(token) : null;
    if (!row) throw new UnauthorizedException(SIGN_IN_AGAIN);
    const user = await this.users.findById(row.userId);
    // A credential change or a disable since the password was proved voids the pending sign-in.
    if (!user || !user.isActive || user.credentialVersion !== row.credentialVersion) {
      await this.pending.finish(row);
      throw new UnauthorizedException(SIGN_IN_AGAIN);
    }
    const country = this.geoip.countryOf(client.ipAddress);
    const attempt = (reason: LoginAttempt['reason'], tx?: Transaction, newDevice?: boolean) =>
      this.attempts.record({ email: user.email, userId: user.id, reason, client, country, newDevice }, tx);

    const throttle = await this.throttle.begin(`second-factor:${user.email}`, client.ipAddress);
    if (!throttle.allowed) {
      await attempt('throttled');
      throw new HttpErrorWithHeaders(429, 'Too many wrong codes; try again later', {
        'Retry-After': String(throttle.retryAfterSeconds),
      });
    }
    if (!(await this.pending.countAttempt(row))) {
      await throttle.settle('cancelled');
      throw new UnauthorizedException(SIGN_IN_AGAIN);
    }
    const right =
      method === 'otp'
        ? await this.totp.useCode(user, dto.code!)
        : await this.totp.useRecoveryCode(user.id, dto.recovery_code!);
    if (!right) {
      await throttle.settle('failure');
      const spent = this.pending.wasLastAttempt(row);
      if (spent) await this.pending.finish(row);
      await attempt('bad_code');
      this.events.secondFactorFailed(user.id, method, spent, client.ipAddress);
      throw new UnauthorizedException(spent ? LAST_WRONG_SECOND_FACTOR : WRONG_SECOND_FACTOR);
    }
    await throttle.settle('success');
    if (!(await this.pending.finish(row))) throw new UnauthorizedException(SIGN_IN_AGAIN);

    // The row as the password was proved: its credential version, whatever the user row says now
    // (completeSignIn writes nothing if it moved on meanwhile).
    const found = { ...user, credentialVersion: row.credentialVersion };
    const result = await this.auth.completeSignIn(
      found,
      ['pwd', 'otp', 'mfa'],
      row.rememberMe,
      client,
      previous,
      async (reason, tx, newDevice) => {
        await attempt(reason, tx, newDevice);
        if (method === 'recovery_code' && reason === 'ok' && tx)
          await this.notices.recoveryCodeUsed(
            user,
            this.clock.now(),
            await this.totp.recoveryCodesLeft(user.id, tx),
            tx,
          );
      },
    );
    if (!result) throw credentialsChanged();
    if (method === 'recovery_code') this.events.recoveryCodeUsed(user.id, await this.totp.recoveryCodesLeft(user.id));
    return result;
  }
}
