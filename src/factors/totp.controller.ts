import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Auth } from '../common/access/auth.decorator';
import { ApiErrors, ErrorDto, errorExample } from '../common/api-docs';
import { CurrentSession, CurrentUser } from '../sessions/request-auth.decorators';
import type { Session } from '../sessions/session.entity';
import type { User } from '../users/user.entity';
import {
  OtherSessionsDto,
  RecoveryCodesDto,
  TotpConfirmDto,
  TotpConfirmResponseDto,
  TotpSetupResponseDto,
  TotpStatusDto,
} from './dto/totp.dto';
import { ALREADY_ON, NO_PENDING_SETUP, NOT_ON, TotpService, WRONG_CODE } from './totp.service';

const ApiNotOn = (message: string) =>
  ApiResponse({ status: 404, description: message, type: ErrorDto, example: errorExample(404, message) });

const NOTICE = 'The account is mailed a notice.';

/** The authenticator app's management routes (set up, confirm, turn off) and recovery codes. */
@ApiTags('second factor')
@Controller()
export class TotpController {
  constructor(private readonly totp: TotpService) {}

  @Auth()
  @Get('totp')
  @ApiOperation({
    summary:
      'Whether the authenticator app is on for the account (the dashboard shows it, and offers to set it up or turn it off).',
  })
  @ApiOkResponse({ type: TotpStatusDto })
  async status(@CurrentUser() user: User): Promise<TotpStatusDto> {
    return { enabled: await this.totp.isOn(user.id) };
  }

  @Auth({ recentAuth: true })
  @Post('totp/setup')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Starts setting up an authenticator app: a new secret, its otpauth:// URI and QR code. Not on until confirmed.',
    description:
      'The secret is pending until POST /totp/confirm gets a code made from it; a new setup replaces a pending one. ' +
      'TOTP as RFC 6238 with the settings every app reads: HMAC-SHA-1, 6 digits, 30 seconds. ' +
      'Needs the password proved within REAUTH_MAX_AGE (403 `reauthentication_required`). 409 while an app is already on (turn it off first).',
  })
  @ApiOkResponse({ type: TotpSetupResponseDto })
  @ApiResponse({ status: 409, description: ALREADY_ON, type: ErrorDto, example: errorExample(409, ALREADY_ON) })
  @ApiErrors(413, 415)
  async setup(@CurrentUser() user: User, @CurrentSession() session: Session): Promise<TotpSetupResponseDto> {
    const { secret, otpauthUri, qrSvg } = await this.totp.setup({ user, session });
    return { secret, otpauth_uri: otpauthUri, qr_svg: qrSvg };
  }

  @Auth()
  @Post('totp/confirm')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Turns the authenticator app on with a first code from it, and answers ten recovery codes (shown this once).',
    description:
      'From now on a sign-in with the password asks for a code (POST /login answers `second_factor_required`). ' +
      `A code is accepted within one 30-second step either side of now, and only once. ${NOTICE} ` +
      '`other_sessions` counts the sessions made before, for the dashboard to offer ending them.',
  })
  @ApiBody({ type: TotpConfirmDto })
  @ApiOkResponse({ type: TotpConfirmResponseDto })
  @ApiResponse({
    status: 400,
    description: `Invalid input, a code that is not the current one (nothing changed; try the next one), or no setup to confirm: "${NO_PENDING_SETUP}".`,
    type: ErrorDto,
    example: errorExample(400, WRONG_CODE),
  })
  @ApiErrors(403, 413, 415)
  async confirm(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Body() dto: TotpConfirmDto,
  ): Promise<TotpConfirmResponseDto> {
    const { recoveryCodes, otherSessions } = await this.totp.confirm({ user, session }, dto.code);
    return { recovery_codes: recoveryCodes, other_sessions: otherSessions };
  }

  @Auth({ recentAuth: true })
  @Delete('totp')
  @ApiOperation({
    summary: 'Turns the authenticator app off and deletes its recovery codes: sign-ins take the password alone again.',
    description: `Needs the password proved within REAUTH_MAX_AGE (403 \`reauthentication_required\`). ${NOTICE} \`other_sessions\` as for POST /totp/confirm.`,
  })
  @ApiOkResponse({ type: OtherSessionsDto })
  @ApiNotOn(NOT_ON)
  async turnOff(@CurrentUser() user: User, @CurrentSession() session: Session): Promise<OtherSessionsDto> {
    return { other_sessions: (await this.totp.turnOff({ user, session })).otherSessions };
  }

  @Auth({ recentAuth: true })
  @Post('recovery_codes')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Ten new recovery codes (shown this once); every earlier one stops working.',
    description: `Only while the authenticator app is on (404 otherwise). Needs the password proved within REAUTH_MAX_AGE. ${NOTICE}`,
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiNotOn(NOT_ON)
  @ApiErrors(413, 415)
  async newRecoveryCodes(@CurrentUser() user: User, @CurrentSession() session: Session): Promise<RecoveryCodesDto> {
    return { recovery_codes: await this.totp.newRecoveryCodes({ user, session }) };
  }
}
