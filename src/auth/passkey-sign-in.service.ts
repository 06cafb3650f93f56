import { Injectable, UnauthorizedException } from '@nestjs/common';
import type { Transaction } from '../common/database/transactions';
import { credentialsChanged } from '../common/http-error';
import type { AuthenticationResponseDto } from '../factors/dto/webauthn-json.dto';
import { PASSKEY_REFUSED, PasskeysService, type Caller } from '../factors/passkeys.service';
import { AuthEvents } from '../sessions/auth-events';
import { GeoIp } from '../sessions/geoip.service';
import type { RequestAuth } from '../sessions/request-auth.decorators';
import type { AuthMethod } from '../sessions/session.entity';
import { SessionsService, type ClientInfo } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import { AuthService, type LoginResult } from './auth.service';
import type { LoginAttempt } from './login-attempt.entity';
import { LoginAttemptsService } from './login-attempts.service';

/**
 * Signing in and re-authenticating with a passkey: PasskeysService verifies the assertion, and
 * what follows is what a password sign-in does (AuthService: the same refusals, completeSignIn's
 * one transaction, the same re-authentication). A user-verified passkey is two factors by itself
 * (the device, and the PIN or biometrics that unlock it), so it signs in an account that has a
 * second factor too, and its session's amr is [`hwk` or `swk`, `mfa`].
 */
@Injectable()
export class PasskeySignIn {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly attempts: LoginAttemptsService,
    private readonly geoip: GeoIp,
    private readonly events: AuthEvents,
  ) {}

  async signIn(
    response: AuthenticationResponseDto,
    rememberMe: boolean | null,
    client: ClientInfo,
    previous: RequestAuth,
  ): Promise<LoginResult> {
    const { passkey, backedUp } = await this.passkeys.verifySignIn(response, client.ipAddress);
    // Read after the proof: the session is born under the credential version read here, and a
    // credential change committed since makes completeSignIn refuse (409).
    const found = await this.users.findById(passkey.userId);
    if (!found) throw new UnauthorizedException(PASSKEY_REFUSED);
    const country = this.geoip.countryOf(client.ipAddress);
    const attempt = (reason: LoginAttempt['reason'], tx?: Transaction, newDevice?: boolean) =>
      this.attempts.record({ email: found.email, userId: found.id, reason, client, country, newDevice }, tx);
    await this.auth.assertMaySignIn(found, attempt, client.ipAddress);
    // A synced passkey (backed up) is a software key; one bound to its device a hardware key (RFC 8176).
    const methods: AuthMethod[] = [backedUp ? 'swk' : 'hwk', 'mfa'];
    const result = await this.auth.completeSignIn(found, methods, rememberMe, client, previous, attempt);
    if (!result) throw credentialsChanged();
    return result;
  }

  /** POST /reauthenticate/passkey: one of the caller's passkeys, for this session's challenge; the new auth_time. */
  async reauthenticate(caller: Caller, response: AuthenticationResponseDto, client: ClientInfo): Promise<Date> {
    try {
      await this.passkeys.verifyReauthentication(caller, response, client.ipAddress);
    } catch (error) {
      if (error instanceof UnauthorizedException)
        this.events.reauthFailed(caller.user.id, caller.session.id, client.ipAddress);
      throw error;
    }
    const authTime = await this.sessions.markReauthenticated(caller.session);
    this.events.reauthenticated(caller.user.id, caller.session.id);
    return authTime;
  }
}
