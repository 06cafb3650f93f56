import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../sessions/request-auth.decorators';
import { Auth } from '../common/access/auth.decorator';
import { ApiErrors } from '../common/api-docs';
import { ParseIdPipe } from '../common/validation.pipe';
import { RevokedCountDto, toSessionDto } from '../sessions/dto/session.dto';
import type { User } from '../users/user.entity';
import { AdminService } from './admin.service';
import {
  AdminSessionListDto,
  AdminUserListDto,
  AdminUserResponseDto,
  FindUsersQueryDto,
  toAdminUserDto,
} from './dto/admin-user.dto';

const UNKNOWN_USER = 'Not an administrator (the same 404 as an unknown route), or no user has this id.';

/**
 * The administrators' routes (ADMIN_EMAILS). @Auth({ admin }): the session guard answers anyone
 * else with the 404 of an unknown route (never 401), before any parameter is validated, and asks
 * an administrator for a recent password.
 */
@ApiTags('admin')
@Controller('admin/users')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  @ApiOperation({
    summary:
      'Finds a user by email (exact match after the signup normalisation: trim, NFC, lower case): a list of zero or one.',
    description: 'Administrators only; needs the password proved within REAUTH_MAX_AGE seconds.',
  })
  @ApiOkResponse({ type: AdminUserListDto })
  @ApiErrors(400)
  @Auth({ admin: true })
  async find(@CurrentUser() admin: User, @Query() query: FindUsersQueryDto): Promise<AdminUserListDto> {
    return { users: (await this.admin.findByEmail(admin, query.email)).map(toAdminUserDto) };
  }

  @Get(':id/sessions')
  @ApiOperation({
    summary: "A user's active, unexpired sessions, newest first (`current` is always false).",
    description: 'Administrators only; needs the password proved within REAUTH_MAX_AGE seconds.',
  })
  @ApiOkResponse({ type: AdminSessionListDto })
  @ApiErrors(400)
  @Auth({ admin: UNKNOWN_USER })
  async sessions(@CurrentUser() admin: User, @Param('id', ParseIdPipe) id: number): Promise<AdminSessionListDto> {
    return { sessions: (await this.admin.listSessions(admin, id)).map((s) => toSessionDto(s, undefined)) };
  }

  @Delete(':id/sessions')
  @ApiOperation({
    summary:
      "Ends every active session of a user (reason `revoked_by_admin`, which the user's next request gets as its 401 reason).",
    description:
      "Administrators only; needs the password proved within REAUTH_MAX_AGE seconds. An administrator's own id ends their own sessions, this one included.",
  })
  @ApiOkResponse({ type: RevokedCountDto })
  @ApiErrors(400)
  @Auth({ admin: UNKNOWN_USER })
  async revokeSessions(@CurrentUser() admin: User, @Param('id', ParseIdPipe) id: number): Promise<RevokedCountDto> {
    return { revoked: await this.admin.revokeSessions(admin, id) };
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Disables an account and ends all its sessions (reason `account_disabled`); its logins get 403.',
    description:
      'Administrators only; needs the password proved within REAUTH_MAX_AGE seconds. Disabling an already disabled account is a success. ' +
      "An administrator's own id is a 400. No body.",
  })
  @ApiOkResponse({ type: AdminUserResponseDto })
  @ApiErrors(400, 413, 415)
  @Auth({ admin: UNKNOWN_USER })
  async disable(@CurrentUser() admin: User, @Param('id', ParseIdPipe) id: number): Promise<AdminUserResponseDto> {
    return { user: toAdminUserDto(await this.admin.disable(admin, id)) };
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Re-enables a disabled account: it may sign in again. The sessions that ended stay ended.',
    description: 'Administrators only; needs the password proved within REAUTH_MAX_AGE seconds. No body.',
  })
  @ApiOkResponse({ type: AdminUserResponseDto })
  @ApiErrors(400, 413, 415)
  @Auth({ admin: UNKNOWN_USER })
  async enable(@CurrentUser() admin: User, @Param('id', ParseIdPipe) id: number): Promise<AdminUserResponseDto> {
    return { user: toAdminUserDto(await this.admin.enable(admin, id)) };
  }
}
