import { ApiExtraModels, ApiProperty } from '@nestjs/swagger';
import { nullableRef } from '../../common/api-docs';
import { AUTH_METHODS, type AuthMethod, type Session } from '../session.entity';

/** The device a session was started from, parsed once from its user agent at login. */
export class DeviceDto {
  @ApiProperty({ type: String, nullable: true, example: 'Firefox', description: 'Browser name, or null if unknown.' })
  browser: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Linux', description: 'Operating system, or null if unknown.' })
  os: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'desktop',
    description: 'desktop, mobile, tablet, smarttv, wearable, console, embedded, or null if unknown.',
  })
  type: string | null;
}

/** Where a session was started from, by its address (GEOIP=true). */
export class LocationDto {
  @ApiProperty({ example: 'DE', description: 'ISO 3166-1 alpha-2 country code.' }) country: string;
}

/** A session as clients see it: never its token or the token's hash. */
@ApiExtraModels(LocationDto)
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
    description:
      'login_time + SESSION_TIMEOUT (REMEMBER_ME_TIMEOUT with remember_me true); activity never extends it, and a password change keeps it.',
  })
  expires_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) logout_time: string | null;
  @ApiProperty({ example: true }) is_active: boolean;
  @ApiProperty({ description: 'True for the session that made this request.', example: true }) current: boolean;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description:
      "The login's remember_me: true (persistent cookie, REMEMBER_ME_TIMEOUT), false (cookie until the browser closes, SESSION_TIMEOUT), null (not sent: persistent cookie, SESSION_TIMEOUT).",
  })
  remember_me: boolean | null;
  @ApiProperty({ type: DeviceDto }) device: DeviceDto;
  @ApiProperty({
    ...nullableRef(LocationDto),
    description: 'null when GEOIP is off, or the address is private, loopback or unknown.',
  })
  location: LocationDto | null;
  @ApiProperty({
    description: 'The account had not signed in from this browser, operating system and country before.',
    example: false,
  })
  new_device: boolean;
  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'When the owner last proved the password in this session: the login, or POST /reauthenticate.',
  })
  auth_time: string;
  @ApiProperty({
    type: [String],
    enum: AUTH_METHODS,
    example: ['pwd'],
    description:
      'How the session was made, as RFC 8176 names the methods, in the order proved: `pwd` a password, `otp` a one-time code (an authenticator app or a recovery code), `hwk` a passkey bound to one device, `swk` a passkey synced between devices, `mfa` two or more factors. Fixed at sign-in.',
  })
  amr: AuthMethod[];
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
    remember_me: session.rememberMe,
    device: { browser: session.deviceBrowser, os: session.deviceOs, type: session.deviceType },
    location: session.country ? { country: session.country } : null,
    new_device: session.newDevice,
    auth_time: session.authTime.toISOString(),
    amr: authMethodsOf(session),
  };
}

/** The session's auth_methods column as a list; a value this version does not know is left out. */
export function authMethodsOf(session: Pick<Session, 'authMethods'>): AuthMethod[] {
  return session.authMethods.split(' ').filter((m): m is AuthMethod => (AUTH_METHODS as readonly string[]).includes(m));
}
