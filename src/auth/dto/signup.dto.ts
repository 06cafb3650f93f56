import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Matches, MaxLength } from 'class-validator';
import { CodePointLength, EmailLook, NfcByteLength, NormalizeEmail, Trim } from '../../common/validators';
import { UserDto } from '../../users/dto/user.dto';

export const PASSWORD_RULE = { minBytes: 8, maxBytes: 72 } as const;

export class SignupDto {
  @ApiProperty({
    example: 'Ada Lovelace',
    description: 'Trimmed; 1–100 characters (code points).',
    minLength: 1,
    maxLength: 100,
  })
  @Trim()
  @CodePointLength(1, 100)
  @IsString()
  name: string;

  @ApiProperty({
    example: '+44 20 7946 0958',
    description: '7–20 characters: digits, spaces, +, -, (, ). A JSON number is accepted and stored as its digits.',
    oneOf: [{ type: 'string' }, { type: 'integer' }],
  })
  // Not trimmed: API.md trims name and email only; a phone is exactly 7-20 of the allowed characters.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value,
  )
  @IsString({ message: 'phone must be a string or a whole number' })
  @Matches(/^[0-9 +\-()]{7,20}$/, { message: 'phone must be 7-20 characters of digits, spaces, +, -, ( and )' })
  phone: string;

  @ApiProperty({
    example: 'ada@example.com',
    description:
      'Trimmed, fullwidth letters made plain, Unicode NFC and lower-cased; must be unique. Refused (400): invisible or direction-control characters, compatibility characters (ligatures, superscripts, letter-like symbols), and a local part or domain label that mixes scripts (such as a Cyrillic а among Latin letters).',
    maxLength: 254,
  })
  @NormalizeEmail()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  @EmailLook()
  @IsString()
  email: string;

  @ApiProperty({
    example: 'correct horse battery',
    description:
      '8–72 bytes in UTF-8, counted on its NFC form (bcrypt reads 72 bytes; longer is refused, never cut). Hashed and checked in NFC, so the same text typed composed or decomposed is the same password.',
    format: 'password',
  })
  @NfcByteLength(PASSWORD_RULE.minBytes, PASSWORD_RULE.maxBytes)
  @IsString()
  password: string;
}

export class SignupResponseDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
}
