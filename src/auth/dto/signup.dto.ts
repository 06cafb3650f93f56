import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Matches, MaxLength } from 'class-validator';
import { ByteLength, CodePointLength, Trim } from '../../common/validators';
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
  @IsString()
  @CodePointLength(1, 100)
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

  @ApiProperty({ example: 'ada@example.com', description: 'Trimmed and lower-cased; must be unique.', maxLength: 254 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email: string;

  @ApiProperty({
    example: 'correct horse battery',
    description: '8–72 bytes in UTF-8 (bcrypt reads 72 bytes; longer is refused, never cut).',
    format: 'password',
  })
  @IsString()
  @ByteLength(PASSWORD_RULE.minBytes, PASSWORD_RULE.maxBytes)
  password: string;
}

export class SignupResponseDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
}
