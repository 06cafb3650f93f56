import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** What happened to a sign-in attempt; the values /login_activity reports. */
export const ATTEMPT_REASONS = [
  'ok',
  'bad_password',
  'throttled',
  'account_disabled',
  'email_not_verified',
  // The password was right; the second factor was asked for (POST /login/second_factor).
  'second_factor',
  // A wrong code or recovery code at the second step.
  'bad_code',
] as const;
export type AttemptReason = (typeof ATTEMPT_REASONS)[number];

/**
 * One row per POST /login (and POST /login/second_factor) that passed validation: the audit trail
 * behind /login_activity. Never the password or a code. `user_id` is null when the email names no
 * account (the email is kept as typed, normalised, so an operator can see what was tried).
 */
@Entity({ name: 'login_attempts' })
@Index('ix_login_attempts_user', ['userId', 'id'])
// The latest successful sign-ins without walking the failures after them (/login_activity).
@Index('ix_login_attempts_user_success', ['userId', 'success', 'id'])
@Index('ix_login_attempts_time', ['attemptedAt'])
export class LoginAttempt {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'attempted_at', type: Date })
  attemptedAt: Date;

  @Column({ name: 'user_id', type: 'integer', nullable: true })
  userId: number | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'ip_address', type: 'varchar', length: 45, nullable: true })
  ipAddress: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: Boolean })
  success: boolean;

  @Column({ type: 'varchar', length: 20 })
  reason: AttemptReason;

  /** Country of the address (GEOIP=true), kept when IP_RETENTION_DAYS blanks the address. */
  @Column({ type: 'varchar', length: 2, nullable: true })
  country: string | null;

  /** A successful login from a device family and country the account had not used before. */
  @Column({ name: 'new_device', type: Boolean, default: false })
  newDevice: boolean;
}
