import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { NormalizeEmail } from '../../common/validators';

export class ForgotPasswordDto {
  @ApiProperty({
    example: 'ada@example.com',
    description: "Matched after the signup normalisation, like /login's email.",
    maxLength: 254,
  })
  @NormalizeEmail()
  @MinLength(1)
  @MaxLength(254)
  @IsString()
  email: string;
}
