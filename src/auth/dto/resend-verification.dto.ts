import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
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
  // Absent, or an address: null is refused, not read as absent (which would mean the caller's own).
  @ValidateIf((_dto: object, value: unknown) => value !== undefined)
  @NormalizeEmail()
  @MinLength(1)
  @MaxLength(254)
  @IsString()
  email?: string;
}
