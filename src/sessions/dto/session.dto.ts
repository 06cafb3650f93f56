import { ApiProperty } from '@nestjs/swagger';
import type { Session } from '../session.entity';

/** A session as clients see it: never its token or the token's hash. */
export class SessionDto {
  @ApiProperty({ example: 7 }) id: number;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.9' }) ip_address: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Mozilla/5.0 (X11; Linux x86_64)' }) user_agent: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) login_time: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    description:
      'Last request made with this session. Written at most once a minute per session (at most a quarter of SESSION_IDLE_TIMEOUT when that is set), so it may lag the latest request by up to that interval.',
  })
  last_activity: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'login_time + SESSION_TIMEOUT; activity never extends it.',
  })
  expires_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) logout_time: string | null;
  @ApiProperty({ example: true }) is_active: boolean;
  @ApiProperty({ description: 'True for the session that made this request.', example: true }) current: boolean;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto] }) sessions: SessionDto[];
}

export class RevokedCountDto {
  @ApiProperty({ example: 2, description: 'How many sessions were ended.' }) revoked: number;
}

export function toSessionDto(session: Session, currentId: number | undefined): SessionDto {
  return {
    id: session.id,
    ip_address: session.ipAddress,
    user_agent: session.userAgent,
    login_time: session.loginTime.toISOString(),
    last_activity: session.lastActivity.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    logout_time: session.logoutTime ? session.logoutTime.toISOString() : null,
    is_active: session.isActive,
    current: session.id === currentId,
  };
}
