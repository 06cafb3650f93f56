import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { DeviceDto } from '../../sessions/dto/session.dto';
import { CodePointLength, Trim } from '../../common/validators';
import type { Passkey } from '../passkey.entity';
import { RegistrationResponseDto } from './webauthn-json.dto';

/**
 * A passkey as the account's owner sees it. Never the public key. The credential id is shown
 * (base64url): it is no secret (a sign-in's options may list it to anyone), and a page needs it to
 * tell the browser which passkeys the server still accepts (WebAuthn's signal API).
 */
export class PasskeyDto {
  @ApiProperty({ example: 3 }) id: number;
  @ApiProperty({ example: 'Chrome on macOS' }) name: string;
  @ApiProperty({ example: 'l1Vb2a8mT0eJ5y0Wq9Qm2w', description: 'The WebAuthn credential id, base64url.' })
  credential_id: string;
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'The latest sign-in or re-authentication with it.',
  })
  last_used_at: string | null;
  @ApiProperty({ type: DeviceDto, description: 'The device of the session that added it.' }) device: DeviceDto;
  @ApiProperty({
    example: true,
    description:
      'Synced by its provider (a password manager, a platform account) as of its latest use: a session made with it has amr `swk`; otherwise `hwk`.',
  })
  backed_up: boolean;
  @ApiProperty({
    type: [String],
    example: ['internal', 'hybrid'],
    description: 'How the browser can reach the authenticator, as it reported at creation.',
  })
  transports: string[];
}

export function toPasskeyDto(passkey: Passkey): PasskeyDto {
  return {
    id: passkey.id,
    name: passkey.name,
    credential_id: passkey.credentialId,
    created_at: passkey.createdAt.toISOString(),
    last_used_at: passkey.lastUsedAt ? passkey.lastUsedAt.toISOString() : null,
    device: { browser: passkey.deviceBrowser, os: passkey.deviceOs, type: passkey.deviceType },
    backed_up: passkey.backedUp,
    transports: passkey.transports ? passkey.transports.split(' ') : [],
  };
}

export class PasskeyListDto {
  @ApiProperty({ type: [PasskeyDto] }) passkeys: PasskeyDto[];
}

export class OtherSessionsDto {
  @ApiProperty({
    example: 2,
    description:
      'How many other active sessions the account has: the dashboard offers to end them (DELETE /active_sessions).',
  })
  other_sessions: number;
}

export class PasskeyAddedDto extends OtherSessionsDto {
  @ApiProperty({ type: PasskeyDto }) passkey: PasskeyDto;
}

export class PasskeyResponseDto {
  @ApiProperty({ type: PasskeyDto }) passkey: PasskeyDto;
}

const NAME_RULE = 'name must be between 1 and 100 characters';

export class RegisterPasskeyDto {
  @ApiProperty({
    type: RegistrationResponseDto,
    description: 'PublicKeyCredential.toJSON() of the credential navigator.credentials.create() made.',
  })
  @ValidateNested()
  @Type(() => RegistrationResponseDto)
  @IsObject()
  response: RegistrationResponseDto;

  @ApiProperty({
    required: false,
    example: 'Work laptop',
    description: 'Default: the browser and system it was added from ("Chrome on macOS").',
  })
  @IsOptional()
  @Trim()
  @CodePointLength(1, 100, { message: NAME_RULE })
  @IsString()
  name?: string;
}

export class RenamePasskeyDto {
  @ApiProperty({ example: 'Work laptop' })
  @Trim()
  @CodePointLength(1, 100, { message: NAME_RULE })
  @IsString()
  name: string;
}
