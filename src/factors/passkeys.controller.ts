import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorDto, ApiErrors, errorExample } from '../common/api-docs';
import { Auth } from '../common/access/auth.decorator';
import { ParseIdPipe } from '../common/validation.pipe';
import { CurrentSession, CurrentUser, RequestClient } from '../sessions/request-auth.decorators';
import type { Session } from '../sessions/session.entity';
import type { ClientInfo } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import {
  OtherSessionsDto,
  PasskeyAddedDto,
  PasskeyListDto,
  PasskeyResponseDto,
  RegisterPasskeyDto,
  RenamePasskeyDto,
  toPasskeyDto,
} from './dto/passkey.dto';
import { CreationOptionsDto } from './dto/webauthn-options.dto';
import { MAX_PASSKEYS, PasskeysService } from './passkeys.service';

const RECENT = 'always: a recent password or passkey proof (POST /reauthenticate or /reauthenticate/passkey)';
const NOT_FOUND = {
  status: 404,
  description: "An unknown id or another account's passkey.",
  type: ErrorDto,
  example: errorExample(404, 'Passkey not found'),
};

/** The signed-in owner's passkeys: add, list, rename, remove. Signing in with one is auth's (/login/passkey). */
@ApiTags('passkeys')
@Controller('passkeys')
export class PasskeysController {
  constructor(private readonly passkeys: PasskeysService) {}

  @Auth({ recentAuth: RECENT })
  @Post('registration_options')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Starts adding a passkey: the options for navigator.credentials.create() (PublicKeyCredentialCreationOptionsJSON).',
    description:
      "A discoverable credential (resident key required), user verification preferred, no attestation; the account's passkeys in excludeCredentials. " +
      'The challenge is good once, for this session, for 2 minutes. ' +
      `409 when the account already has ${MAX_PASSKEYS} passkeys.`,
  })
  @ApiOkResponse({ type: CreationOptionsDto })
  @ApiErrors(409, 413, 415)
  registrationOptions(@CurrentUser() user: User, @CurrentSession() session: Session): Promise<CreationOptionsDto> {
    return this.passkeys.registrationOptions({ user, session }) as Promise<CreationOptionsDto>;
  }

  @Auth({
    recentAuth: RECENT,
    otherUnauthorized:
      "the credential did not verify (challenge unknown, spent, expired or another session's; origin, RP ID or signature wrong).",
  })
  @Post()
  @ApiOperation({
    summary:
      'Adds a passkey: the credential navigator.credentials.create() made, as PublicKeyCredential.toJSON() gives it.',
    description:
      "Verified against the challenge of POST /passkeys/registration_options (spent by this request whatever its outcome), PUBLIC_URL's origin and host name (the RP ID). " +
      "A notice is mailed to the account. `other_sessions` counts the account's other active sessions: the dashboard offers to end them (DELETE /active_sessions).",
  })
  @ApiBody({ type: RegisterPasskeyDto })
  @ApiCreatedResponse({ type: PasskeyAddedDto })
  @ApiConflictResponse({
    description: `The credential is registered already, or the account has ${MAX_PASSKEYS} passkeys.`,
    type: ErrorDto,
    example: errorExample(409, 'This passkey is already registered'),
  })
  @ApiErrors(400, 413, 415)
  async register(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Body() dto: RegisterPasskeyDto,
    @RequestClient() client: ClientInfo,
  ): Promise<PasskeyAddedDto> {
    const { passkey, otherSessions } = await this.passkeys.register(
      { user, session },
      dto.response,
      dto.name,
      client.ipAddress,
    );
    return { passkey: toPasskeyDto(passkey), other_sessions: otherSessions };
  }

  @Auth()
  @Get()
  @ApiOperation({ summary: "The caller's passkeys, oldest first." })
  @ApiOkResponse({ type: PasskeyListDto })
  async list(@CurrentUser() user: User): Promise<PasskeyListDto> {
    return { passkeys: (await this.passkeys.list(user.id)).map(toPasskeyDto) };
  }

  @Auth()
  @Patch(':id')
  @ApiOperation({ summary: "Renames one of the caller's passkeys." })
  @ApiBody({ type: RenamePasskeyDto })
  @ApiOkResponse({ type: PasskeyResponseDto })
  @ApiErrors(400, 403, 413, 415)
  @ApiResponse(NOT_FOUND)
  async rename(
    @CurrentUser() user: User,
    @Param('id', ParseIdPipe) id: number,
    @Body() dto: RenamePasskeyDto,
  ): Promise<PasskeyResponseDto> {
    return { passkey: toPasskeyDto(await this.passkeys.rename(user.id, id, dto.name)) };
  }

  @Auth({ recentAuth: RECENT })
  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({
    summary: "Removes one of the caller's passkeys: it no longer signs in or re-authenticates.",
    description:
      "Answers 200 with `other_sessions` (not 204): the dashboard offers to end the account's other sessions. A notice is mailed. " +
      "An unknown id or another account's passkey gives 404, before the proof's age is looked at. " +
      'Removing the last passkey is always allowed: every account here keeps its password, so it is never the last way to sign in. ' +
      'Sessions made with the passkey are not ended by this.',
  })
  @ApiOkResponse({ type: OtherSessionsDto })
  @ApiErrors(400)
  @ApiResponse(NOT_FOUND)
  async remove(
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Param('id', ParseIdPipe) id: number,
  ): Promise<OtherSessionsDto> {
    const { otherSessions } = await this.passkeys.remove({ user, session }, id);
    return { other_sessions: otherSessions };
  }
}
