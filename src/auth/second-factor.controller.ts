import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiCredentialsChanged, ApiErrors, ErrorDto, errorExample } from '../common/api-docs';
import { Auth } from '../common/access/auth.decorator';
import { AcceptsFormPosts } from '../common/access/route-traits';
import { BrowserForm } from './browser-form';
import { toSessionDto } from '../sessions/dto/session.dto';
import { CurrentAuth, RequestClient, type RequestAuth } from '../sessions/request-auth.decorators';
import { SessionCookie } from '../sessions/session-cookie';
import type { ClientInfo } from '../sessions/sessions.service';
import { toUserDto } from '../users/dto/user.dto';
import { CookieHeader, DeviceCookie } from './device-cookie';
import { LoginResponseDto } from './dto/login.dto';
import { SecondFactorDto } from './dto/second-factor.dto';
import { SecondFactorCookie, SecondFactorToken } from './second-factor-cookie';
import { SecondFactorService, SIGN_IN_AGAIN } from './second-factor.service';

/** The second step of a sign-in (an account with the authenticator app on). */
@ApiTags('auth')
@Controller()
export class SecondFactorController {
  constructor(
    private readonly secondFactor: SecondFactorService,
    private readonly cookie: SessionCookie,
    private readonly secondFactorCookie: SecondFactorCookie,
    private readonly deviceCookie: DeviceCookie,
  ) {}

  @Auth({ mode: 'optional' })
  @AcceptsFormPosts()
  @UseGuards(ThrottlerGuard)
  @Post('login/second_factor')
  @HttpCode(200)
  @BrowserForm({ page: 'login_second_factor', redirectTo: '/userpage' })
  @ApiOperation({
    summary:
      'Finishes a sign-in that POST /login left pending (`second_factor_required`) with a code from the authenticator app or a recovery code: the session, as POST /login gives it.',
    description:
      'The pending sign-in is the `second_factor` cookie POST /login set (or `pending_token` in the body). It lasts 300 seconds and takes at most 5 codes; ' +
      'once it has expired, been finished, had its fifth wrong code, or the account changed its password or ended its sessions since, every attempt gets 401 saying to sign in again. ' +
      'A code counts within one 30-second step either side of now, and only once (a code, or an older one, already accepted is refused). ' +
      'Wrong codes count against failed-login limits of their own (as POST /login: 5 per account from one address, 20 per address with passwords, 100 per account, per 15 minutes): past them 429 with Retry-After. ' +
      'A recovery code works once, and the account is mailed a notice. ' +
      '/login/second_factor shares the AUTH_RATE_LIMIT budget of /login. The session records amr `pwd`, `otp`, `mfa` and the remember_me the login was sent with; the `second_factor` cookie is cleared; `"return_token": true` puts the session token in the body as for POST /login.',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({
    type: SecondFactorDto,
    examples: {
      code: { summary: 'A code from the app (the cookie names the sign-in)', value: { code: '492039' } },
      recovery: { summary: 'A recovery code', value: { recovery_code: '7kq2-mxz9-4hpt' } },
    },
  })
  @ApiOkResponse({
    type: LoginResponseDto,
    description: 'Signed in, exactly as POST /login answers.',
    headers: {
      'Set-Cookie': {
        description: 'The session token and the known-device cookie; the `second_factor` cookie cleared.',
        schema: { type: 'string' },
      },
    },
  })
  @ApiResponse({
    status: 401,
    description:
      'A wrong code (the sign-in stays pending while it has tries left), or no usable pending sign-in (expired, finished, spent, or voided by a credential change): sign in again.',
    type: ErrorDto,
    example: errorExample(401, SIGN_IN_AGAIN),
  })
  @ApiErrors(400, 403, 413, 415, 429, 503)
  @ApiCredentialsChanged(
    'the account\'s sessions were ended (an "end all") while this sign-in finished. No session; sign in again.',
  )
  async complete(
    @Body() dto: SecondFactorDto,
    @SecondFactorToken() pendingCookie: string | undefined,
    @RequestClient() client: ClientInfo,
    @CurrentAuth() previous: RequestAuth,
    @CookieHeader() cookieHeader: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<LoginResponseDto> {
    const { user, session, token } = await this.secondFactor.complete(dto, pendingCookie, client, previous);
    this.cookie.set(res, session, token);
    this.secondFactorCookie.clear(res);
    this.deviceCookie.remember(res, this.deviceCookie.read(cookieHeader), user.id);
    return {
      user: toUserDto(user),
      session: toSessionDto(session, session.id),
      ...(dto.return_token === true ? { token } : {}),
    };
  }
}
