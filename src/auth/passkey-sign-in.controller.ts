import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiCredentialsChanged, ApiErrors, ErrorDto, errorExample } from '../common/api-docs';
import { Auth } from '../common/access/auth.decorator';
import { RequestOptionsDto } from '../factors/dto/webauthn-options.dto';
import { PASSKEY_REFUSED, PasskeysService } from '../factors/passkeys.service';
import { toSessionDto } from '../sessions/dto/session.dto';
import {
  CurrentAuth,
  CurrentSession,
  CurrentUser,
  RequestClient,
  type RequestAuth,
} from '../sessions/request-auth.decorators';
import { SessionCookie } from '../sessions/session-cookie';
import type { Session } from '../sessions/session.entity';
import type { ClientInfo } from '../sessions/sessions.service';
import { toUserDto } from '../users/dto/user.dto';
import type { User } from '../users/user.entity';
import { CookieHeader, DeviceCookie } from './device-cookie';
import { LoginResponseDto } from './dto/login.dto';
import { PasskeyReauthenticateDto, PasskeySignInDto } from './dto/passkey-sign-in.dto';
import { ReauthenticateResponseDto } from './dto/reauthenticate.dto';
import { PasskeySignIn } from './passkey-sign-in.service';

const REFUSED = {
  status: 401,
  description:
    "The passkey did not verify: its challenge unknown, spent, expired or issued for something else; the credential unknown (removed); origin or RP ID not this server's; no user verification; a bad signature; a signature counter that did not go up. One message for all (the log says which).",
  type: ErrorDto,
  example: errorExample(401, PASSKEY_REFUSED),
};

const CHALLENGE = 'The challenge is good once, for 2 minutes; user verification is required (a PIN or biometrics).';

/** Signing in and re-authenticating with a passkey; the passkeys themselves are managed under /passkeys. */
@ApiTags('auth')
@Controller()
export class PasskeySignInController {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly signIn: PasskeySignIn,
    private readonly cookie: SessionCookie,
    private readonly deviceCookie: DeviceCookie,
  ) {}

  @Auth({ mode: 'public' })
  @UseGuards(ThrottlerGuard)
  @Post('login/passkey_options')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Starts a passkey sign-in: the options for navigator.credentials.get() (PublicKeyCredentialRequestOptionsJSON).',
    description:
      `Discoverable credentials: no allowCredentials, the authenticator offers the accounts it holds (also for autofill, mediation "conditional"). ${CHALLENGE} ` +
      'Counts against the AUTH_RATE_LIMIT of /login.',
  })
  @ApiOkResponse({ type: RequestOptionsDto })
  @ApiErrors(403, 413, 415, 429)
  options(): Promise<RequestOptionsDto> {
    return this.passkeys.signInOptions() as Promise<RequestOptionsDto>;
  }

  @Auth({ mode: 'optional' })
  @UseGuards(ThrottlerGuard)
  @Post('login/passkey')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Signs in with a passkey: answers exactly as POST /login does (user, session, the session and known-device cookies).',
    description:
      "The assertion for the options of POST /login/passkey_options. The session's amr is [`swk`, `mfa`] for a synced passkey, [`hwk`, `mfa`] for one bound to its device: " +
      'a user-verified passkey is two factors, so an account with an authenticator app signs in with it directly. ' +
      'A disabled account (403) and, with REQUIRE_VERIFIED_EMAIL, an unconfirmed address (403 `email_not_verified`) are refused as at /login. ' +
      'A session the request carried is ended first; remember_me and return_token work as at /login. Counts against the AUTH_RATE_LIMIT of /login.',
  })
  @ApiBody({ type: PasskeySignInDto })
  @ApiOkResponse({
    type: LoginResponseDto,
    description: 'Signed in. `token` only with `"return_token": true`.',
    headers: {
      'Set-Cookie': { description: 'The session token, and the known-device cookie.', schema: { type: 'string' } },
    },
  })
  @ApiResponse(REFUSED)
  @ApiErrors(400, 403, 413, 415, 429)
  @ApiCredentialsChanged(
    'the account\'s sessions were ended (an "end all", a disable) while this sign-in ran. No session; sign in again.',
  )
  async login(
    @Body() dto: PasskeySignInDto,
    @RequestClient() client: ClientInfo,
    @CurrentAuth() previous: RequestAuth,
    @CookieHeader() cookieHeader: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<LoginResponseDto> {
    const devices = this.deviceCookie.read(cookieHeader);
    const { user, session, token } = await this.signIn.signIn(dto.response, dto.remember_me ?? null, client, previous);
    this.cookie.set(res, session, token);
    this.deviceCookie.remember(res, devices, user.id);
    return {
      user: toUserDto(user),
      session: toSessionDto(session, session.id),
      ...(dto.return_token === true ? { token } : {}),
    };
  }

  @Auth()
  @Post('reauthenticate/passkey_options')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Starts a re-authentication with a passkey: the options for navigator.credentials.get(), listing the caller's passkeys.",
    description: `${CHALLENGE} It is bound to this session.`,
  })
  @ApiOkResponse({ type: RequestOptionsDto })
  @ApiErrors(403, 413, 415)
  reauthenticateOptions(@CurrentUser() user: User, @CurrentSession() session: Session): Promise<RequestOptionsDto> {
    return this.passkeys.reauthenticationOptions({ user, session }) as Promise<RequestOptionsDto>;
  }

  @Auth({
    otherUnauthorized: `the passkey did not verify (${PASSKEY_REFUSED}); another account's passkey never does. The session is unchanged.`,
  })
  @Post('reauthenticate/passkey')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Proves a passkey again in the current session ("sudo mode"), as POST /reauthenticate does the password: auth_time becomes now.',
    description:
      "The assertion for this session's POST /reauthenticate/passkey_options; only the caller's own passkeys.",
  })
  @ApiBody({ type: PasskeyReauthenticateDto })
  @ApiOkResponse({ type: ReauthenticateResponseDto })
  @ApiErrors(400, 403, 413, 415)
  async reauthenticate(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Body() dto: PasskeyReauthenticateDto,
    @RequestClient() client: ClientInfo,
  ): Promise<ReauthenticateResponseDto> {
    const authTime = await this.signIn.reauthenticate({ user, session }, dto.response, client);
    return { auth_time: authTime.toISOString() };
  }
}
