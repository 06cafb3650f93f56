import { Controller, Delete, Get, HttpCode, Param, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiSession } from '../auth/api-session';
import { ApiErrors } from '../common/api-docs';
import { CurrentSession } from '../auth/auth.decorators';
import { ParseIdPipe } from '../common/validation.pipe';
import { RevokedCountDto, SessionListDto, toSessionDto } from './dto/session.dto';
import { SessionCookie } from './session-cookie';
import { Session } from './session.entity';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ApiSession()
@Controller('active_sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly cookie: SessionCookie,
  ) {}

  @Get()
  @ApiOperation({
    summary: "The caller's active, unexpired sessions, newest first; the caller's own is marked current.",
  })
  @ApiOkResponse({ type: SessionListDto })
  async list(@CurrentSession() current: Session): Promise<SessionListDto> {
    const sessions = await this.sessions.listUsable(current.userId);
    return { sessions: sessions.map((s) => toSessionDto(s, current.id)) };
  }

  @Delete()
  @ApiOperation({ summary: "Ends all of the caller's sessions except the current one (reason `revoked`)." })
  @ApiOkResponse({ type: RevokedCountDto })
  @ApiErrors(403)
  async endOthers(@CurrentSession() current: Session): Promise<RevokedCountDto> {
    return { revoked: await this.sessions.revokeOthers(current.userId, current.id) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Ends one of the caller's sessions (reason `revoked`). Ending the current one is a logout: reason `logged_out`, cookie cleared.",
  })
  @ApiNoContentResponse({ description: 'Ended.' })
  @ApiErrors(400, 403, 404)
  async endOne(
    @CurrentSession() current: Session,
    @Param('id', ParseIdPipe) id: number,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<void> {
    const isCurrent = id === current.id;
    await this.sessions.endOwn(current.userId, id, isCurrent ? 'logged_out' : 'revoked');
    if (isCurrent) this.cookie.clear(res);
  }
}
