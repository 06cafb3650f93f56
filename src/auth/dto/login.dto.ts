import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { NormalizeEmail } from '../../common/validators';
import { IsBoolean, IsOptional, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { SessionDto } from '../../sessions/dto/session.dto';
import { UserDto } from '../../users/dto/user.dto';

export class LoginDto {
  @ApiProperty({
    example: 'ada@example.com',
    description:
      "Matched after the signup normalisation (trimmed, fullwidth letters made plain, NFC, lower-cased). Not refused for the signup's look-alike rules, so an account created before them still signs in.",
  })
  @NormalizeEmail()
  @MinLength(1)
  @MaxLength(254)
  @IsString()
  email: string;

  @ApiProperty({ example: 'correct horse battery', format: 'password' })
  @MinLength(1)
  @MaxLength(1024)
  @IsString()
  password: string;

  @ApiProperty({
    required: false,
    type: Boolean,
    description:
      'Omitted: a persistent cookie and SESSION_TIMEOUT, as always. false: a cookie that lasts until the browser closes (no Max-Age) and SESSION_TIMEOUT. true: a persistent cookie and REMEMBER_ME_TIMEOUT (default 30 days). SESSION_IDLE_TIMEOUT applies to all three. A form post sends "true" or "on" (a ticked checkbox) for true, "false" for false; when the field is repeated (a hidden "false" before a checkbox, as the sign-in page does), the last value counts.',
  })
  // A form carries text: a ticked checkbox sends "on" (or its value), an unticked one nothing. The
  // sign-in page puts a hidden remember_me=false before its checkbox, so a ticked box posts
  // remember_me=false&remember_me=true: of repeated form values the last one counts.
  @Transform(({ value }: { value: unknown }) => {
    const text = Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.at(-1) : value;
    return text === 'true' || text === 'on' ? true : text === 'false' ? false : text;
  })
  @IsOptional()
  @IsBoolean({ message: 'remember_me must be true or false' })
  remember_me?: boolean;

  @ApiProperty({
    required: false,
    type: Boolean,
    description:
      'true: the response body carries the session token too (`token`), for a client without a cookie jar (a mobile app, a script, Swagger UI\'s "Authorize"), ' +
      'which then sends it as `Authorization: Bearer <token>`. The cookie is set as always. Omitted or false: no token in the body. ' +
      "A JSON boolean only, so only a JSON body can ask: a form post that sends the field is refused (400), and browsers and the server's own pages never ask.",
  })
  // Only a JSON body can carry a boolean: a form post's values are text, so return_token=true in a
  // form is refused (400) rather than ignored or read as true. A page can then never be talked into
  // putting the token where its scripts (and an XSS) could read it. null is refused too: the field
  // is absent or a boolean, nothing else.
  @ValidateIf((_dto: object, value: unknown) => value !== undefined)
  @IsBoolean({ message: 'return_token must be a JSON boolean (true or false); a form post cannot ask for the token' })
  return_token?: boolean;
}

/** A session token as the server issues it (43 characters of base64url), for the examples. */
export const TOKEN_EXAMPLE = 'kU3pV9xq2ZrE7nM4bT8wY1cA6dF0gH5jL2sQ9vX3zB7';

export class LoginResponseDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ type: SessionDto }) session: SessionDto;
  @ApiProperty({
    required: false,
    example: TOKEN_EXAMPLE,
    description:
      'Only when the login asked for it (`"return_token": true`): the raw session token, the same as the cookie\'s, to send as `Authorization: Bearer <token>`. ' +
      'Keep it as secret as a password; it is valid until the session ends (see `session.expires_at`).',
  })
  token?: string;
}

export class MessageDto {
  @ApiProperty({ example: 'Logged out' }) message: string;
}

export class SessionStatusDto {
  @ApiProperty({ example: true }) authenticated: boolean;
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ type: SessionDto }) session: SessionDto;
  @ApiProperty({ example: 86340, description: 'Whole seconds until the session expires.' }) expires_in: number;
  @ApiProperty({
    type: String,
    format: 'date-time',
    description: "The session's expires_at: it ends then, whatever the activity.",
  })
  expires_at: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    required: false,
    description:
      'Only when SESSION_IDLE_TIMEOUT is set: last_activity + SESSION_IDLE_TIMEOUT, when the session ends unless it is used again. last_activity is written at most once a minute (a quarter of the idle timeout at most), so this may be a little earlier than the real deadline, never later. This request itself may have moved it.',
  })
  idle_expires_at?: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    description:
      'When the password was last proved in this session (login, password change or POST /reauthenticate). Ending other sessions and admin actions need it within REAUTH_MAX_AGE seconds.',
  })
  auth_time: string;
}
