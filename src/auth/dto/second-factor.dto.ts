import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { TotpCodeField } from '../../factors/dto/totp.dto';
import { TOKEN_EXAMPLE } from './login.dto';

export class SecondFactorDto {
  @TotpCodeField({ optional: true, description: ' Send this or `recovery_code`.' })
  code?: string;

  @ApiProperty({
    required: false,
    example: '7kq2-mxz9-4hpt',
    description:
      'One of the recovery codes instead of `code` (case, spaces and hyphens ignored). Single use; the account is mailed a notice.',
  })
  @ValidateIf((_dto: object, value: unknown) => value !== undefined)
  @MaxLength(64)
  @IsString()
  recovery_code?: string;

  @ApiProperty({
    required: false,
    example: TOKEN_EXAMPLE,
    description:
      'The `pending_token` POST /login answered (with `"return_token": true`), for a client without a cookie jar; a browser sends the `second_factor` cookie instead. When both are there, this one counts.',
  })
  @ValidateIf((_dto: object, value: unknown) => value !== undefined)
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'pending_token must be the pending_token POST /login answered' })
  @IsString()
  pending_token?: string;

  @ApiProperty({
    required: false,
    type: Boolean,
    description: 'As for POST /login: true puts the session token in the body too (`token`). A JSON boolean only.',
  })
  @ValidateIf((_dto: object, value: unknown) => value !== undefined)
  @IsBoolean({ message: 'return_token must be a JSON boolean (true or false); a form post cannot ask for the token' })
  return_token?: boolean;
}

export class SecondFactorRequiredDto {
  @ApiProperty({ enum: [true], example: true }) second_factor_required: true;

  @ApiProperty({
    type: [String],
    enum: ['otp', 'recovery_code', 'passkey'],
    example: ['otp', 'recovery_code'],
    description:
      'How the sign-in can be finished: `otp` (a code from the authenticator app) or `recovery_code`, both at POST /login/second_factor; `passkey` when the account has one (POST /login/passkey, a sign-in of its own).',
  })
  methods: string[];

  @ApiProperty({
    example: 300,
    description: 'Seconds the pending sign-in waits for the second factor; then sign in with the password again.',
  })
  expires_in: number;

  @ApiProperty({
    required: false,
    example: TOKEN_EXAMPLE,
    description:
      'Only with `"return_token": true`: the pending sign-in\'s token (the `second_factor` cookie\'s value), to send as `pending_token` to POST /login/second_factor. It is no session token: every route that needs a session refuses it.',
  })
  pending_token?: string;
}
