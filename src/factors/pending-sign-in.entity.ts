import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/**
 * A sign-in whose password was right, waiting for the second factor (migrations/1765200000000-Totp.ts).
 * Never a session: the guard reads only the sessions table.
 */
@Entity({ name: 'pending_sign_ins' })
@Index('ix_pending_sign_ins_expires', ['expiresAt'])
export class PendingSignIn {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  /** HMAC-SHA-256 of the token (pending-sign-ins.service.ts): the raw token is only in the cookie. */
  @Index('uq_pending_sign_ins_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64, select: false })
  tokenHash: string;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** The account's credential version read with the password: a credential change since voids this. */
  @Column({ name: 'credential_version', type: 'integer' })
  credentialVersion: number;

  /** The login's remember_me (null: not sent), for the session the second step starts. */
  @Column({ name: 'remember_me', type: Boolean, nullable: true })
  rememberMe: boolean | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  /** Codes tried (right or wrong); the fifth wrong one spends the row. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** Finished (a session started), or spent (too many wrong codes, or its account changed). */
  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt: Date | null;
}
