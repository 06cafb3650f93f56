import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { NfcByteLength } from '../../common/validators';
import { PASSWORD_RULE } from './signup.dto';

export class ChangePasswordDto {
  @ApiProperty({ format: 'password', example: 'correct horse battery' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  current_password: string;

  @ApiProperty({
    format: 'password',
    example: 'battery staple horse',
    description: 'The signup rule: 8–72 bytes in UTF-8, counted on its NFC form.',
  })
  @IsString()
  @NfcByteLength(PASSWORD_RULE.minBytes, PASSWORD_RULE.maxBytes)
  new_password: string;
}
