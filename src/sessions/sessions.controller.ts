import { Controller, Delete, Get, HttpCode, Param, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiCredentialsChanged, ApiErrors } from '../common/api-docs';
import { CurrentSession } from './request-auth.decorators';
import { Auth } from '../common/access/auth.decorator';
import { ParseIdPipe } from '../common/validation.pipe';
import { RevokedCountDto, SessionListDto, toSessionDto } from './dto/session.dto';
import { SessionCookie } from './session-cookie';
import { Session } from './session.entity';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@Controller('active_sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly cookie: SessionCookie,
  ) {}

  @Get()
  @Auth()
  @ApiOperation({
    summary: "The caller's active, unexpired sessions, newest first; the caller's own is marked current.",
  })
  @ApiOkResponse({ type: SessionListDto })
  async list(@CurrentSession() current: Session): Promise<SessionListDto> {
    const sessions = await this.sessions.listUsable({
      id: current.userId,
      credentialVersion: current.credentialVersion,
    });
    return { sessions: sessions.map((s) => toSessionDto(s, current.id)) };
  }

  @Delete()
  @ApiOperation({
    summary: "Ends all of the caller's sessions except the current one (reason `revoked`).",
    description:
      'Needs the password proved within REAUTH_MAX_AGE seconds (the login, or POST /reauthenticate); otherwise 403 `reauthentication_required` and nothing ends. ' +
      'Sessions of logins still in flight end too (they never become usable).',
  })
  @ApiOkResponse({ type: RevokedCountDto })
  @ApiCredentialsChanged('a password change, a disable or another "end all" won; this session is no longer valid.')
  @Auth({ recentAuth: true })
  async endOthers(@CurrentSession() current: Session): Promise<RevokedCountDto> {
    return { revoked: await this.sessions.revokeOthers(current) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Ends one of the caller's sessions (reason `revoked`). Ending the current one is a logout: reason `logged_out`, cookie cleared.",
    description:
      'Ending another session needs the password proved within REAUTH_MAX_AGE seconds (403 `reauthentication_required` otherwise); ending the current one never does. ' +
      "An unknown id, an ended session or someone else's gives 404, before the password's age is looked at.",
  })
  @ApiNoContentResponse({ description: 'Ended.' })
  @ApiErrors(400, 404)
  @Auth({ recentAuth: 'for another session than the current one' })
  async endOne(
    @CurrentSession() current: Session,
    @Param('id', ParseIdPipe) id: number,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<void> {
    await this.sessions.endOwn(current, id);
    if (id === current.id) this.cookie.clear(res);
  }
}
