import { ApiProperty } from '@nestjs/swagger';
import type { User } from '../user.entity';

/** A user as clients see it: never the password or its hash. */
export class UserDto {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ example: 'Ada Lovelace' }) name: string;
  @ApiProperty({ example: 'ada@example.com' }) email: string;
  @ApiProperty({ example: '+44 20 7946 0958' }) phone: string;
  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-27T18:00:00.000Z' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-11-27T18:05:00.000Z' }) last_login:
    string | null;
  @ApiProperty({ example: true }) is_active: boolean;
  @ApiProperty({
    example: false,
    description:
      'Whether the address has been confirmed (a verification or password-reset link was used); false for accounts made before e-mail verification existed.',
  })
  email_verified: boolean;
}

export class UserPageDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ example: 2, description: "Number of the user's sessions that are active and unexpired." })
  active_sessions: number;
}

export function toUserDto(user: User): UserDto {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    phone: user.phone,
    created_at: user.createdAt.toISOString(),
    last_login: user.lastLogin ? user.lastLogin.toISOString() : null,
    is_active: user.isActive,
    email_verified: user.emailVerified,
  };
}
