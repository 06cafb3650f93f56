import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';
import { EmailLook, NormalizeEmail } from '../../common/validators';

export class ChangeEmailDto {
  @ApiProperty({ format: 'password', example: 'correct horse battery', description: 'The current password.' })
  @MinLength(1)
  @MaxLength(1024)
  @IsString()
  password: string;

  @ApiProperty({
    example: 'ada.lovelace@example.org',
    description: "The new address, under signup's rules (normalised, look-alikes refused); no account may have it.",
    maxLength: 254,
  })
  @NormalizeEmail()
  @MaxLength(254)
  @IsEmail({}, { message: 'new_email must be an email address' })
  @EmailLook()
  @IsString()
  new_email: string;
}
