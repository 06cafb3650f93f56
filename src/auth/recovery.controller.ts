import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth } from '../common/access/auth.decorator';
import { AcceptsFormPosts } from '../common/access/route-traits';
import { ApiErrors, ErrorDto, errorExample } from '../common/api-docs';
import { EMAIL_TAKEN } from '../users/users.service';
import { RevokedCountDto } from '../sessions/dto/session.dto';
import {
  CurrentAuth,
  CurrentSession,
  CurrentUser,
  RequestClient,
  type RequestAuth,
} from '../sessions/request-auth.decorators';
import type { Session } from '../sessions/session.entity';
import type { ClientInfo } from '../sessions/sessions.service';
import { toUserDto } from '../users/dto/user.dto';
import type { User } from '../users/user.entity';
import { BrowserForm } from './browser-form';
import { ChangeEmailDto } from './dto/change-email.dto';
import { ForgotPasswordDto } from './dto/forgot-password.dto';
import { MessageDto } from './dto/login.dto';
import { ResendVerificationDto } from './dto/resend-verification.dto';
import { ResetPasswordDto } from './dto/reset-password.dto';
import { VerifyEmailDto, VerifyEmailResponseDto } from './dto/verify-email.dto';
import {
  ALREADY_VERIFIED,
  EMAIL_CHANGE_REQUESTED,
  INVALID_LINK,
  MAIL_UNAVAILABLE,
  RecoveryService,
  RESET_REQUESTED,
  VERIFICATION_REQUESTED,
  VERIFICATION_SENT,
} from './recovery.service';

/** The 503 of a route that mails, on a production server without MAIL_URL. */
const ApiMailUnavailable = () =>
  ApiResponse({
    status: 503,
    description:
      'Production without MAIL_URL: the server cannot send mail, so it does not promise one. Also the usual 503 of an unavailable database or Redis (with Retry-After).',
    type: ErrorDto,
    example: errorExample(503, MAIL_UNAVAILABLE),
  });

/** The 400 of a route that takes a token. */
const ApiInvalidLink = () =>
  ApiResponse({
    status: 400,
    description:
      'Invalid input (`message` names each bad field), or a token that is unknown, used, expired or made void by a newer link (`message` says so); nothing changed.',
    type: ErrorDto,
    example: errorExample(400, INVALID_LINK),
  });

/** The public pages' routes also take a plain HTML form (the pages work without JavaScript; see BrowserForm). */
const FORM_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

const PER_ADDRESS =
  'These routes, /login and /signup share the AUTH_RATE_LIMIT budget of requests a minute per client address (an IPv6 /64 counts as one): past it, 429 with Retry-After.';

/**
 * Account recovery by mail (API.md, "E-mail: recovery, verification, notices"). Tokens travel in
 * JSON bodies only: a link in a mail opens a page (`/reset_password_page?token=…`,
 * `/verify_email_page?token=…`), and the page posts the token here, so a link that is only
 * fetched (a mail scanner) spends nothing.
 */
@ApiTags('auth')
@Controller()
export class RecoveryController {
  constructor(private readonly recovery: RecoveryService) {}

  @Auth({ mode: 'public' })
  @AcceptsFormPosts()
  @UseGuards(ThrottlerGuard)
  @Post('forgot_password')
  @HttpCode(202)
  @BrowserForm({ page: 'forgot_password', redirectTo: '/forgot_password_page?notice=sent' })
  @ApiOperation({
    summary: 'Mails a password-reset link, if an active account uses the address. Always the same 202.',
    description:
      'The answer is the same body, and is given before the address is even looked up, whether or not an account uses it: neither the body nor the time tells. ' +
      'An active account then gets a mail with a link to `PUBLIC_URL/reset_password_page?token=…`: the token is 256 random bits, stored only as a keyed hash, ' +
      'single use, valid for PASSWORD_RESET_TIMEOUT seconds (default 1800); each new link makes the older ones invalid. ' +
      'At most 3 reset links are mailed per account per hour (the answer stays 202). ' +
      PER_ADDRESS,
  })
  @ApiConsumes(...FORM_TYPES)
  @ApiBody({ type: ForgotPasswordDto })
  @ApiAcceptedResponse({ type: MessageDto, example: { message: RESET_REQUESTED } })
  @ApiErrors(400, 403, 413, 415, 429)
  @ApiMailUnavailable()
  forgotPassword(@Body() dto: ForgotPasswordDto): MessageDto {
    return { message: this.recovery.forgotPassword(dto.email) };
  }

  @Auth({ mode: 'public' })
  @AcceptsFormPosts()
  @UseGuards(ThrottlerGuard)
  @Post('reset_password')
  @HttpCode(200)
  @BrowserForm({ page: 'reset_password', redirectTo: '/reset_password_page?notice=done' })
  @ApiOperation({
    summary:
      'Sets a new password with the token of a reset link, and ends every session of the account (reason `password_reset`). Does not sign in.',
    description:
      'The new password follows the signup rule. In one transaction: the token is used (single use: of two requests with one token exactly one succeeds), ' +
      'the password replaced (a credential change: logins with the old password still in flight get no usable session), every session ended with reason `password_reset`, ' +
      "the address marked verified, the account's other unused links made void (a pending e-mail change among them), and a notice mailed to the account. " +
      'An unknown, used, expired or superseded token gives 400 and changes nothing. ' +
      PER_ADDRESS,
  })
  @ApiConsumes(...FORM_TYPES)
  @ApiBody({ type: ResetPasswordDto })
  @ApiOkResponse({ type: RevokedCountDto })
  @ApiInvalidLink()
  @ApiErrors(403, 413, 415, 429, 503)
  async resetPassword(@Body() dto: ResetPasswordDto): Promise<RevokedCountDto> {
    return { revoked: await this.recovery.resetPassword(dto.token, dto.new_password) };
  }

  @Auth({ mode: 'optional' })
  @AcceptsFormPosts()
  @UseGuards(ThrottlerGuard)
  @Post('verify_email')
  @HttpCode(200)
  @BrowserForm({ page: 'verify_email', redirectTo: '/verify_email_page?notice=done' })
  @ApiOperation({
    summary:
      "Confirms the address a verification link was sent to: the account's own (at signup, or resent), or a new one (POST /change_email).",
    description:
      'Needs no session (the link may be opened on another device). Single use. ' +
      'A link sent at signup (or by /resend_verification) marks the address verified. ' +
      "A link sent by /change_email makes its address the account's (verified), unless another account took it meanwhile (409) or the account's credentials changed since it was sent " +
      '(a password change or reset, an "end all": 400). That is a credential change: every other session of the account ends (reason `revoked`); ' +
      "the session that sends this request, if it is the account's, stays signed in with its token unchanged. Unused links of the old address become invalid. " +
      PER_ADDRESS,
  })
  @ApiConsumes(...FORM_TYPES)
  @ApiBody({ type: VerifyEmailDto })
  @ApiOkResponse({ type: VerifyEmailResponseDto })
  @ApiInvalidLink()
  @ApiResponse({
    status: 409,
    description: 'An e-mail change whose new address another account took since the link was sent; nothing changed.',
    type: ErrorDto,
    example: errorExample(409, EMAIL_TAKEN),
  })
  @ApiErrors(403, 413, 415, 429, 503)
  async verifyEmail(@Body() dto: VerifyEmailDto, @CurrentAuth() auth: RequestAuth): Promise<VerifyEmailResponseDto> {
    return { user: toUserDto(await this.recovery.verifyEmail(dto.token, auth)) };
  }

  @Auth({ mode: 'optional' })
  @AcceptsFormPosts()
  @UseGuards(ThrottlerGuard)
  @Post('resend_verification')
  @HttpCode(202)
  @BrowserForm({ page: 'login', redirectTo: '/login_page?notice=verification_sent' })
  @ApiOperation({
    summary:
      "Mails a new link to confirm an address. Signed in: the caller's; signed out: the `email` given (always the same 202).",
    description:
      'Extends API.md (which has the signed-in form only): REQUIRE_VERIFIED_EMAIL refuses the sign-in of an unconfirmed account (403 `email_not_verified`), so the link can also be asked for signed out. ' +
      'With `email` (signed in or not): the same 202 for every address, given before the address is looked up, like /forgot_password; an active account whose address is unconfirmed then gets a link. ' +
      "Without `email`, signed in: a link to the caller's address; 409 if it is confirmed already, 429 (Retry-After) once 3 links were sent this hour. Without `email` and without a session: 400. " +
      'Each link is valid for EMAIL_VERIFICATION_TIMEOUT seconds (default 3 days), once, and makes the older ones invalid; at most 3 are mailed per account per hour. ' +
      PER_ADDRESS,
  })
  @ApiConsumes(...FORM_TYPES)
  @ApiBody({ type: ResendVerificationDto })
  @ApiAcceptedResponse({
    type: MessageDto,
    examples: {
      signedOut: { summary: 'With `email`', value: { message: VERIFICATION_REQUESTED } },
      signedIn: { summary: 'Signed in, without `email`', value: { message: VERIFICATION_SENT } },
    },
  })
  @ApiResponse({
    status: 409,
    description: "Signed in, without `email`: the caller's address is confirmed already; nothing was sent.",
    type: ErrorDto,
    example: errorExample(409, ALREADY_VERIFIED),
  })
  @ApiErrors(400, 403, 413, 415, 429)
  @ApiMailUnavailable()
  async resendVerification(@Body() dto: ResendVerificationDto, @CurrentAuth() auth: RequestAuth): Promise<MessageDto> {
    return { message: await this.recovery.resendVerification(dto.email, auth.user) };
  }

  @Auth({ otherUnauthorized: 'the password is wrong.' })
  @Post('change_email')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Asks to change the address: a confirmation link goes to the new address, a notice to the current one. The address changes when the link is used.',
    description:
      'A wrong password gives 401 and changes nothing; wrong passwords count against the same failed-login limits as POST /login (429 with Retry-After). ' +
      "The new address follows signup's rules; one an account already has gives 409. " +
      'The link (`PUBLIC_URL/verify_email_page?token=…`, valid EMAIL_VERIFICATION_TIMEOUT seconds, once) is posted to POST /verify_email, which makes the change. ' +
      'A newer request makes the older link invalid, and so does any credential change before it is used. At most 3 requests per account per hour (429 with Retry-After).',
  })
  @ApiBody({ type: ChangeEmailDto })
  @ApiAcceptedResponse({ type: MessageDto, example: { message: EMAIL_CHANGE_REQUESTED } })
  @ApiErrors(400, 403, 413, 415, 429)
  @ApiResponse({
    status: 409,
    description:
      'An account has the new address already; or another change to the account\'s credentials or sessions (a password change, a disable, an "end all") committed while this request ran. Nothing was sent.',
    type: ErrorDto,
    example: errorExample(409, EMAIL_TAKEN),
  })
  @ApiMailUnavailable()
  async changeEmail(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Body() dto: ChangeEmailDto,
    @RequestClient() client: ClientInfo,
  ): Promise<MessageDto> {
    return { message: await this.recovery.changeEmail({ user, session }, dto.password, dto.new_email, client) };
  }
}
