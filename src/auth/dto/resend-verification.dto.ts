import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { NormalizeEmail } from '../../common/validators';

export class ResendVerificationDto {
  @ApiProperty({
    required: false,
    example: 'ada@example.com',
    description:
      'Signed out (REQUIRE_VERIFIED_EMAIL refuses the sign-in until the address is confirmed): the address to send a new link to; ' +
      "the answer is the same 202 whether or not an account uses it. Omitted: the signed-in caller's own address.",
    maxLength: 254,
  })
  @IsOptional()
  @NormalizeEmail()
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  email?: string;
}
