import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

/**
 * What browsers send: PublicKeyCredential.toJSON() (or @simplewebauthn/browser's equivalent), in
 * WebAuthn's JSON encoding (binary values as base64url). Every field a browser may add is
 * declared, so a real browser's response passes the "no unknown fields" rule; each has a length
 * limit far above what an authenticator produces, so a huge field is a 400, never work for the
 * verifier.
 */
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const base64url = (property: string) => Matches(BASE64URL, { message: `${property} must be base64url` });

/** A credential id: at most 1023 bytes (WebAuthn), so 1364 base64url characters. */
const CREDENTIAL_ID_MAX = 1364;

class CredentialBase {
  @ApiProperty({ description: 'The credential id, base64url.', example: 'l1Vb2a8mT0eJ5y0Wq9Qm2w' })
  @MinLength(1)
  @MaxLength(CREDENTIAL_ID_MAX)
  @base64url('id')
  @IsString()
  id: string;

  @ApiProperty({ description: 'The same credential id, base64url.', example: 'l1Vb2a8mT0eJ5y0Wq9Qm2w' })
  @MinLength(1)
  @MaxLength(CREDENTIAL_ID_MAX)
  @base64url('rawId')
  @IsString()
  rawId: string;

  @ApiProperty({ enum: ['public-key'] })
  @IsIn(['public-key'])
  type: 'public-key';

  @ApiProperty({ required: false, enum: ['platform', 'cross-platform'] })
  @IsOptional()
  @IsIn(['platform', 'cross-platform'])
  authenticatorAttachment?: 'platform' | 'cross-platform';

  @ApiProperty({
    required: false,
    type: Object,
    description: "The browser's extension outputs (credProps, prf, ...); ignored.",
  })
  @IsOptional()
  @IsObject()
  clientExtensionResults?: Record<string, unknown>;
}

export class AttestationResponseDto {
  @ApiProperty({ description: 'base64url' })
  @MinLength(1)
  @MaxLength(8192)
  @base64url('clientDataJSON')
  @IsString()
  clientDataJSON: string;

  @ApiProperty({ description: 'base64url' })
  @MinLength(1)
  @MaxLength(32768)
  @base64url('attestationObject')
  @IsString()
  attestationObject: string;

  @ApiProperty({ required: false, description: 'base64url' })
  @IsOptional()
  @MaxLength(32768)
  @base64url('authenticatorData')
  @IsString()
  authenticatorData?: string;

  @ApiProperty({ required: false, type: [String], example: ['internal', 'hybrid'] })
  @IsOptional()
  @ArrayMaxSize(10)
  @Matches(/^[a-z-]{1,20}$/, {
    each: true,
    message: 'transports must be transport names (usb, nfc, ble, internal, hybrid, ...)',
  })
  @IsArray()
  transports?: string[];

  @ApiProperty({ required: false, example: -7 })
  @IsOptional()
  @IsInt()
  publicKeyAlgorithm?: number;

  @ApiProperty({
    required: false,
    description: 'base64url (SubjectPublicKeyInfo); not used: the key is read from attestationObject.',
  })
  @IsOptional()
  @MaxLength(8192)
  @base64url('publicKey')
  @IsString()
  publicKey?: string;
}

/** RegistrationResponseJSON: what navigator.credentials.create() gave, as JSON. */
export class RegistrationResponseDto extends CredentialBase {
  @ApiProperty({ type: AttestationResponseDto })
  @ValidateNested()
  @Type(() => AttestationResponseDto)
  @IsObject()
  response: AttestationResponseDto;
}

export class AssertionResponseDto {
  @ApiProperty({ description: 'base64url' })
  @MinLength(1)
  @MaxLength(8192)
  @base64url('clientDataJSON')
  @IsString()
  clientDataJSON: string;

  @ApiProperty({ description: 'base64url' })
  @MinLength(1)
  @MaxLength(8192)
  @base64url('authenticatorData')
  @IsString()
  authenticatorData: string;

  @ApiProperty({ description: 'base64url' })
  @MinLength(1)
  @MaxLength(8192)
  @base64url('signature')
  @IsString()
  signature: string;

  @ApiProperty({
    required: false,
    type: String,
    nullable: true,
    description: 'base64url: the user handle a discoverable credential holds.',
  })
  @IsOptional()
  @MaxLength(128)
  @base64url('userHandle')
  @IsString()
  userHandle?: string | null;
}

/** AuthenticationResponseJSON: what navigator.credentials.get() gave, as JSON. */
export class AuthenticationResponseDto extends CredentialBase {
  @ApiProperty({ type: AssertionResponseDto })
  @ValidateNested()
  @Type(() => AssertionResponseDto)
  @IsObject()
  response: AssertionResponseDto;
}
