import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { NfcByteLength } from '../../common/validators';
import { RevokedCountDto } from '../../sessions/dto/session.dto';
import { TOKEN_EXAMPLE } from './login.dto';
import { PASSWORD_RULE } from './signup.dto';

export class ChangePasswordDto {
  @ApiProperty({ format: 'password', example: 'correct horse battery' })
  @MinLength(1)
  @MaxLength(1024)
  @IsString()
  current_password: string;

  @ApiProperty({
    format: 'password',
    example: 'battery staple horse',
    description: 'The signup rule: 8–72 bytes in UTF-8, counted on its NFC form.',
  })
  @NfcByteLength(PASSWORD_RULE.minBytes, PASSWORD_RULE.maxBytes)
  @IsString()
  new_password: string;
}

export class ChangePasswordResponseDto extends RevokedCountDto {
  @ApiProperty({
    required: false,
    example: TOKEN_EXAMPLE,
    description:
      "Only when this request was authenticated by `Authorization: Bearer`: the new session's token, which replaces the one sent (that one is now ended, reason `revoked`). " +
      'A cookie-authenticated request never gets it; its new token is in the cookie only.',
  })
  token?: string;
}
