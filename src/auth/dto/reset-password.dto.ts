import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { NfcByteLength } from '../../common/validators';
import { EmailTokenField } from './email-token.dto';
import { PASSWORD_RULE } from './signup.dto';

export class ResetPasswordDto {
  @EmailTokenField()
  token: string;

  @ApiProperty({
    format: 'password',
    example: 'battery staple horse',
    description: 'The signup rule: 8–72 bytes in UTF-8, counted on its NFC form.',
  })
  @NfcByteLength(PASSWORD_RULE.minBytes, PASSWORD_RULE.maxBytes)
  @IsString()
  new_password: string;
}
