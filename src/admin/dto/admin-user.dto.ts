import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { NormalizeEmail } from '../../common/validators';
import { SessionDto } from '../../sessions/dto/session.dto';
import { toUserDto, UserDto } from '../../users/dto/user.dto';
import type { User } from '../../users/user.entity';

/** GET /admin/users?email= */
export class FindUsersQueryDto {
  @ApiProperty({
    example: 'ada@example.com',
    description:
      "Exact match, after the signup normalisation (trimmed, fullwidth letters made plain, NFC, lower-cased). Look-alike addresses are not refused here, so an account made before the signup's rules can be found.",
  })
  @NormalizeEmail()
  @IsString({ message: 'email must be a string' })
  @MinLength(1, { message: 'email must not be empty' })
  @MaxLength(254)
  email: string;
}

/** A user as an administrator sees it: the user object plus the role. */
export class AdminUserDto extends UserDto {
  @ApiProperty({ example: false, description: 'Listed in ADMIN_EMAILS (as of the last start or the signup).' })
  is_admin: boolean;
}

export class AdminUserListDto {
  @ApiProperty({ type: [AdminUserDto], description: 'The one user with that email, or none.' })
  users: AdminUserDto[];
}

export class AdminUserResponseDto {
  @ApiProperty({ type: AdminUserDto }) user: AdminUserDto;
}

export class AdminSessionListDto {
  @ApiProperty({
    type: [SessionDto],
    description: "The user's active, unexpired sessions, newest first; `current` is false.",
  })
  sessions: SessionDto[];
}

export function toAdminUserDto(user: User): AdminUserDto {
  return { ...toUserDto(user), is_admin: user.isAdmin };
}
