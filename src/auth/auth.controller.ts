import { Body, Controller, Get, Head, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExcludeEndpoint,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiCredentialsChanged, ApiErrors } from '../common/api-docs';
import { Auth } from '../common/access/auth.decorator';
import { AcceptsFormPosts, CrossSiteChecked } from '../common/access/route-traits';
import { UnauthorizedDto } from './api-session';
import {
  CurrentAuth,
  CurrentSession,
  CurrentUser,
  RequestClient,
  type RequestAuth,
} from '../sessions/request-auth.decorators';
import { toSessionDto } from '../sessions/dto/session.dto';
import { SessionCookie } from '../sessions/session-cookie';
import type { ClientInfo } from '../sessions/sessions.service';
import type { Session } from '../sessions/session.entity';
import { BrowserForm } from './browser-form';
import { toUserDto } from '../users/dto/user.dto';
import type { User } from '../users/user.entity';
import { AuthService } from './auth.service';
import { CookieHeader, DeviceCookie } from './device-cookie';
import { ChangePasswordDto, ChangePasswordResponseDto } from './dto/change-password.dto';
import { LoginActivityDto, toLoginAttemptDto } from './dto/login-activity.dto';
import { LoginDto, LoginResponseDto, MessageDto, SessionStatusDto, TOKEN_EXAMPLE } from './dto/login.dto';
import { ReauthenticateDto, ReauthenticateResponseDto } from './dto/reauthenticate.dto';
import { SignupDto, SignupResponseDto } from './dto/signup.dto';
import { SecondFactorRequiredDto } from './dto/second-factor.dto';
import { SecondFactorCookie } from './second-factor-cookie';

const FORM_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

@ApiTags('auth')
@ApiExtraModels(UnauthorizedDto, LoginResponseDto, SecondFactorRequiredDto)
@Controller()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookie: SessionCookie,
    private readonly deviceCookie: DeviceCookie,
    private readonly secondFactorCookie: SecondFactorCookie,
  ) {}

  @Auth({ mode: 'public' })
  @AcceptsFormPosts()
  @UseGuards(ThrottlerGuard)
  @Post('signup')
  @BrowserForm({ page: 'signup', redirectTo: '/login_page?notice=account_created' })
  @ApiOperation({ summary: 'Creates an account. Sets no cookie; log in next.' })
  @ApiConsumes(...FORM_TYPES)
  @ApiBody({ type: SignupDto })
  @ApiCreatedResponse({ type: SignupResponseDto })
  @ApiErrors(400, 403, 409, 413, 415, 429, 503)
  async signup(@Body() dto: SignupDto): Promise<SignupResponseDto> {
    return { user: toUserDto(await this.auth.signup(dto)) };
  }

  @Auth({ mode: 'optional' })
  @AcceptsFormPosts()
  @UseGuards(ThrottlerGuard)
  @Post('login')
  @HttpCode(200)
  @BrowserForm({ page: 'login', redirectTo: '/userpage' })
  @ApiOperation({
    summary:
      'Starts a session and sets the session cookie (HttpOnly, SameSite=Lax, Path=/, Max-Age = remaining lifetime; none with remember_me false).',
    description:
      'A session the request already carried is ended first (reason `logged_out`). Wrong password and unknown email give the same 401. ' +
      'Failed logins are limited (defaults: 5 per account from one address, 20 per address, 100 per account, each per 15 minutes; ' +
      'unknown emails count like known ones): past a limit every attempt gets 429 with Retry-After, even with the right password, and a success ' +
      "clears that account's count for that address. An address is counted by its IPv6 /64 (an IPv4-mapped address as its IPv4 address). " +
      'A successful login also sets a known-device cookie (`device`, or `__Host-device` with SESSION_COOKIE_SECURE; HttpOnly, SameSite=Lax, Path=/, one year; ' +
      'it names no account, remembers up to 5 accounts per browser, and logout keeps it). A later login to that account carrying it is exempt from those limits: ' +
      'its failures count only against the device (LOGIN_LIMIT_ACCOUNT_ADDRESS per window; past that it is treated like any other client), ' +
      'and its password is checked ahead of other logins, so a flood of failed logins cannot lock that browser out. A forged or foreign device cookie is ignored. ' +
      '/login and /signup also take at most AUTH_RATE_LIMIT requests a minute per address (429). ' +
      'A login past MAX_SESSIONS_PER_USER ends the least recently active session (reason `revoked`). ' +
      'remember_me true gives REMEMBER_ME_TIMEOUT as the lifetime; false a cookie without Max-Age. ' +
      'The session records the device (parsed from User-Agent) and, with GEOIP=true, the country of the address; ' +
      "it is marked new_device when the account had not signed in from that browser, OS and country before (never the account's first sign-in). " +
      'When more logins arrive than the server can hash, the excess gets 503 with Retry-After (a known device only when the hashing reserved for known devices is full too). ' +
      'A client without a cookie jar (a mobile app, a script, Swagger UI: log in here, copy `token` into "Authorize" → `bearer`) sends `"return_token": true` in a JSON body ' +
      'and gets the token in the response too (`token`), to send as `Authorization: Bearer <token>`; the cookie is set as always. ' +
      'Without it (browsers, the sign-in page) the token is only in the HttpOnly cookie; a form post cannot ask for it (400).',
  })
  @ApiConsumes(...FORM_TYPES)
  @ApiBody({
    type: LoginDto,
    examples: {
      cookie: {
        summary: 'A browser or cookie client: the token in the cookie only',
        value: { email: 'ada@example.com', password: 'correct horse battery' },
      },
      bearer: {
        summary: 'A client without cookies, in JSON only (a form post cannot ask): the token in the body too',
        value: { email: 'ada@example.com', password: 'correct horse battery', return_token: true },
      },
    },
  })
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(LoginResponseDto) }, { $ref: getSchemaPath(SecondFactorRequiredDto) }] },
    description:
      'Signed in (`{user, session}`; `token` only with `"return_token": true`). Or, for an account with an authenticator app on, ' +
      '`{"second_factor_required": true, "methods", "expires_in"}` and no session: a pending sign-in, finished by POST /login/second_factor within `expires_in` seconds; ' +
      'its token is set as the `second_factor` cookie (HttpOnly, SameSite=Lax, Path=/login) and, with `"return_token": true`, answered as `pending_token`.',
    headers: {
      'Set-Cookie': {
        description:
          'The session token and the known-device cookie; or, pending a second factor, the `second_factor` cookie only.',
        schema: { type: 'string' },
      },
    },
  })
  @ApiErrors(400, 401, 403, 413, 415, 429, 503)
  @ApiCredentialsChanged(
    'the password was right, but the account\'s sessions were ended (an "end all") before this login could record itself. No session; sign in again.',
  )
  async login(
    @Body() dto: LoginDto,
    @RequestClient() client: ClientInfo,
    @CurrentAuth() previous: RequestAuth,
    @CookieHeader() cookieHeader: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<LoginResponseDto | SecondFactorRequiredDto> {
    const devices = this.deviceCookie.read(cookieHeader);
    const result = await this.auth.login(dto, client, previous, devices);
    if ('secondFactor' in result) {
      const { token: pending, expiresIn, methods } = result.secondFactor;
      this.secondFactorCookie.set(res, pending, expiresIn);
      return {
        second_factor_required: true,
        methods,
        expires_in: expiresIn,
        ...(dto.return_token === true ? { pending_token: pending } : {}),
      };
    }
    const { user, session, token } = result;
    this.cookie.set(res, session, token);
    this.deviceCookie.remember(res, devices, user.id);
    // The raw token leaves in a body only when asked for, and only a JSON body can ask (LoginDto).
    // The response is no-store like every JSON one, and bodies are never logged.
    return {
      user: toUserDto(user),
      session: toSessionDto(session, session.id),
      ...(dto.return_token === true ? { token } : {}),
    };
  }

  /** HEAD never changes state; without this route Fastify would run GET /logout's handler for it. */
  @Auth({ mode: 'public' })
  @CrossSiteChecked()
  @Head('logout')
  @ApiExcludeEndpoint()
  logoutHead(): void {}

  @Auth({ mode: 'optional' })
  @CrossSiteChecked()
  @Get('logout')
  @ApiOperation({
    summary:
      'Ends the current session (if any) and clears the session cookie (the known-device cookie stays). Always 200.',
  })
  @ApiOkResponse({ type: MessageDto })
  @ApiErrors(403)
  logoutGet(@CurrentAuth() auth: RequestAuth, @Res({ passthrough: true }) res: FastifyReply): Promise<MessageDto> {
    return this.logout(auth, res);
  }

  @Auth({ mode: 'optional' })
  @CrossSiteChecked()
  @Post('logout')
  @HttpCode(200)
  @BrowserForm({ redirectTo: '/login_page?notice=signed_out' })
  @ApiOperation({
    summary:
      'Ends the current session (if any) and clears the session cookie (the known-device cookie stays). Always 200.',
  })
  @ApiOkResponse({ type: MessageDto })
  @ApiErrors(403, 413, 415)
  logoutPost(@CurrentAuth() auth: RequestAuth, @Res({ passthrough: true }) res: FastifyReply): Promise<MessageDto> {
    return this.logout(auth, res);
  }

  @Auth()
  @Get('session_status')
  @ApiOperation({ summary: 'The current session, or 401 with `authenticated: false` and the `reason` there is none.' })
  @ApiOkResponse({ type: SessionStatusDto })
  sessionStatus(@CurrentAuth() auth: RequestAuth): SessionStatusDto {
    const { user, session, expiresIn, idleExpiresAt } = this.auth.status(auth);
    return {
      authenticated: true,
      user: toUserDto(user),
      session: toSessionDto(session, session.id),
      expires_in: expiresIn,
      expires_at: session.expiresAt.toISOString(),
      ...(idleExpiresAt ? { idle_expires_at: idleExpiresAt.toISOString() } : {}),
      auth_time: session.authTime.toISOString(),
    };
  }

  @Auth({ otherUnauthorized: 'the password is wrong (the session is unchanged).' })
  @Post('reauthenticate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Proves the password again in the current session ("sudo mode"): the session\'s auth_time becomes now.',
    description:
      'Ending other sessions and admin actions need auth_time within REAUTH_MAX_AGE seconds (default 600); past that they answer 403 `reauthentication_required`, and a client sends the password here, then repeats the action. ' +
      'A wrong password gives 401 (plain error shape, no `reason`) and leaves the session as it is; wrong passwords count against the same failed-login limits as POST /login (429 with Retry-After).',
  })
  @ApiBody({ type: ReauthenticateDto })
  @ApiOkResponse({ type: ReauthenticateResponseDto })
  @ApiErrors(400, 403, 413, 415, 429, 503)
  async reauthenticate(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Body() dto: ReauthenticateDto,
    @RequestClient() client: ClientInfo,
  ): Promise<ReauthenticateResponseDto> {
    const authTime = await this.auth.reauthenticate({ user, session }, dto.password, client);
    return { auth_time: authTime.toISOString() };
  }

  @Auth({ otherUnauthorized: 'the current password is wrong.' })
  @Post('change_password')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Changes the password. Every other session ends (reason `revoked`); the caller gets a fresh session and cookie.',
    description:
      'A wrong current password gives 401 and changes nothing; wrong current passwords count against the same failed-login limits as POST /login (429 with Retry-After). ' +
      'The new password follows the signup rule (8–72 bytes). ' +
      "The new session keeps the old one's remember_me and expires_at. " +
      'A login with the old password that was still in flight gets no usable session. Concurrent changes are serialised: one succeeds, the others get 409. ' +
      'A request authenticated by `Authorization: Bearer` also gets the new token in the body (`token`): its old token no longer works, and a client without a cookie jar ' +
      'would otherwise be signed out. A cookie-authenticated request (a browser) gets it in the cookie only.',
  })
  @ApiBody({ type: ChangePasswordDto })
  @ApiOkResponse({
    type: ChangePasswordResponseDto,
    description: 'Changed. `token` only for a request authenticated by `Authorization: Bearer`.',
    headers: { 'Set-Cookie': { description: 'The new session token.', schema: { type: 'string' } } },
    examples: {
      cookie: { summary: 'Authenticated by the cookie', value: { revoked: 2 } },
      bearer: { summary: 'Authenticated by Authorization: Bearer', value: { revoked: 2, token: TOKEN_EXAMPLE } },
    },
  })
  @ApiErrors(400, 403, 413, 415, 429, 503)
  @ApiCredentialsChanged(
    'another password change (from this session too), a disable or an "end all" won; nothing changed and this session is no longer valid.',
  )
  async changePassword(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Body() dto: ChangePasswordDto,
    @RequestClient() client: ClientInfo,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<ChangePasswordResponseDto> {
    const result = await this.auth.changePassword({ user, session }, dto, client);
    this.cookie.set(res, result.session, result.token);
    // A Bearer client holds its token outside any cookie jar and the old one has just ended: without
    // the new one in the body it would be signed out. It already held the old raw token, so this
    // hands it nothing it could not have had; a cookie-authenticated browser never gets it.
    return { revoked: result.revoked, ...(this.cookie.presentsBearer(req) ? { token: result.token } : {}) };
  }

  @Auth()
  @Get('login_activity')
  @ApiOperation({
    summary:
      "The caller's recent sign-in attempts, failed and throttled ones included, newest first; recent successes always among them.",
    description:
      'The latest 50 attempts of every kind plus the latest 20 successful sign-ins, each listed once: failed attempts ' +
      'can never push a successful sign-in out of view, however many came after it (so at most 70 entries).',
  })
  @ApiOkResponse({ type: LoginActivityDto })
  async loginActivity(@CurrentUser() user: User): Promise<LoginActivityDto> {
    return { attempts: (await this.auth.loginActivity(user)).map(toLoginAttemptDto) };
  }

  private async logout(auth: RequestAuth, res: FastifyReply): Promise<MessageDto> {
    await this.auth.logout(auth);
    this.cookie.clear(res);
    return { message: 'Logged out' };
  }
}
