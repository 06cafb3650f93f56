import { ApiProperty } from '@nestjs/swagger';
import { ATTEMPT_REASONS, type LoginAttempt } from '../login-attempt.entity';

export class LoginAttemptDto {
  @ApiProperty({ type: String, format: 'date-time' }) time: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '203.0.113.9',
    description: 'null once IP_RETENTION_DAYS have passed (when set).',
  })
  ip_address: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Mozilla/5.0 (X11; Linux x86_64)' }) user_agent: string | null;
  @ApiProperty({ example: false }) success: boolean;
  @ApiProperty({ enum: ATTEMPT_REASONS, example: 'bad_password' }) reason: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'DE',
    description:
      'ISO 3166-1 alpha-2 country of the address (GEOIP=true); null when off, or the address is private or unknown. Kept when IP_RETENTION_DAYS blanks ip_address.',
  })
  country: string | null;
  @ApiProperty({
    example: false,
    description:
      "A successful sign-in from a browser, operating system and country the account had not signed in from before (never the account's first sign-in).",
  })
  new_device: boolean;
}

export class LoginActivityDto {
  @ApiProperty({
    type: [LoginAttemptDto],
    description:
      'Newest first: the latest 50 sign-in attempts on the account and the latest 20 successful ones, each once.',
  })
  attempts: LoginAttemptDto[];
}

export function toLoginAttemptDto(attempt: LoginAttempt): LoginAttemptDto {
  return {
    time: attempt.attemptedAt.toISOString(),
    ip_address: attempt.ipAddress,
    user_agent: attempt.userAgent,
    success: attempt.success,
    reason: attempt.reason,
    country: attempt.country,
    new_device: attempt.newDevice,
  };
}
