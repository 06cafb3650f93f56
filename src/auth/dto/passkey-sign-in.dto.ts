import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, ValidateIf, ValidateNested } from 'class-validator';
import { AuthenticationResponseDto } from '../../factors/dto/webauthn-json.dto';

const RESPONSE_DESCRIPTION =
  'PublicKeyCredential.toJSON() of the credential navigator.credentials.get() returned, for the options of the matching *_options route (whose challenge this request spends, whatever its outcome).';

export class PasskeySignInDto {
  @ApiProperty({ type: AuthenticationResponseDto, description: RESPONSE_DESCRIPTION })
  @ValidateNested()
  @Type(() => AuthenticationResponseDto)
  @IsObject()
  response: AuthenticationResponseDto;

  @ApiProperty({ required: false, type: Boolean, description: 'As for POST /login.' })
  @IsOptional()
  @IsBoolean({ message: 'remember_me must be true or false' })
  remember_me?: boolean;

  @ApiProperty({
    required: false,
    type: Boolean,
    description: 'As for POST /login: true puts the session token in the body too.',
  })
  @ValidateIf((_dto: object, value: unknown) => value !== undefined)
  @IsBoolean({ message: 'return_token must be a JSON boolean (true or false)' })
  return_token?: boolean;
}

export class PasskeyReauthenticateDto {
  @ApiProperty({ type: AuthenticationResponseDto, description: RESPONSE_DESCRIPTION })
  @ValidateNested()
  @Type(() => AuthenticationResponseDto)
  @IsObject()
  response: AuthenticationResponseDto;
}
