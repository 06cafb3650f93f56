import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { User } from '../users/user.entity';

/** Why a session stopped being active; also the `reason` that /session_status reports. */
export const END_REASONS = [
  'logged_out',
  'revoked',
  'expired',
  'idle_timeout',
  'account_disabled',
  'revoked_by_admin',
  'password_reset',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/**
 * How a session's owner proved who they are, as RFC 8176 names them (the `amr` of the API): `pwd`
 * a password, `otp` a one-time code (an authenticator app, or a recovery code), `hwk` / `swk` a
 * passkey bound to one device / synced between devices, `mfa` two or more independent factors.
 */
export const AUTH_METHODS = ['pwd', 'otp', 'hwk', 'swk', 'mfa'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

@Entity({ name: 'sessions' })
@Index('ix_sessions_user_active', ['userId', 'isActive'])
@Index('ix_sessions_active_expires', ['isActive', 'expiresAt'])
@Index('ix_sessions_ended', ['isActive', 'logoutTime'])
export class Session {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  // One-sided: a user knows nothing of its sessions.
  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /**
   * HMAC-SHA-256 of the token, keyed with SECRET_KEY (hex). The raw token exists only in the
   * client's cookie, so a copy of this table cannot be replayed as sessions.
   */
  @Index('uq_sessions_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64, select: false })
  tokenHash: string;

  @Column({ name: 'ip_address', type: 'varchar', length: 45, nullable: true })
  ipAddress: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ name: 'login_time', type: Date })
  loginTime: Date;

  @Column({ name: 'last_activity', type: Date })
  lastActivity: Date;

  @Column({ name: 'logout_time', type: Date, nullable: true })
  logoutTime: Date | null;

  @Column({ name: 'is_active', type: Boolean, default: true })
  isActive: boolean;

  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  @Column({ name: 'end_reason', type: 'varchar', length: 20, nullable: true })
  endReason: EndReason | null;

  /** The login's `remember_me`: true (persistent cookie, REMEMBER_ME_TIMEOUT), false (browser-session cookie), null (not sent). */
  @Column({ name: 'remember_me', type: Boolean, nullable: true })
  rememberMe: boolean | null;

  /** The device, parsed once from the user agent at login (ua-parser-js). */
  @Column({ name: 'device_browser', type: 'varchar', length: 50, nullable: true })
  deviceBrowser: string | null;

  @Column({ name: 'device_os', type: 'varchar', length: 50, nullable: true })
  deviceOs: string | null;

  /** `desktop`, `mobile`, `tablet`, ... */
  @Column({ name: 'device_type', type: 'varchar', length: 20, nullable: true })
  deviceType: string | null;

  /** ISO 3166-1 alpha-2 country of the login's address (GEOIP=true), or null. */
  @Column({ type: 'varchar', length: 2, nullable: true })
  country: string | null;

  /** The account had not signed in from this device family and country before. */
  @Column({ name: 'new_device', type: Boolean, default: false })
  newDevice: boolean;

  /** When the owner last proved the password in this session: the login, or POST /reauthenticate. */
  @Column({ name: 'auth_time', type: Date })
  authTime: Date;

  /**
   * The owner's users.credential_version when the login read the password hash it checked (or the
   * version an "end all" moved the caller's session to). Once the user's version moves on, the
   * guard refuses the session: whatever credential change raced the login, it cannot outlive it.
   */
  @Column({ name: 'credential_version', type: 'integer', default: 0 })
  credentialVersion: number;

  /**
   * How the session was made (AuthMethod values, space-separated, in the order proved): "pwd" for a
   * password login, "pwd otp mfa" with an authenticator app's code, "hwk" for a passkey. Fixed at
   * the start; a later re-authentication does not change it.
   */
  @Column({ name: 'auth_methods', type: 'varchar', length: 64, default: 'pwd' })
  authMethods: string;
}
