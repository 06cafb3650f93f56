import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';

/**
 * An account's authenticator app (migrations/1765200000000-Totp.ts): at most one per account,
 * pending (`confirmed_at` null) from POST /totp/setup until a first code confirms it.
 */
@Entity({ name: 'totp_factors' })
export class TotpFactor {
  @PrimaryColumn({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** The base32 secret, AES-256-GCM under a key derived from SECRET_KEY (totp-secret.ts). */
  @Column({ name: 'secret_encrypted', type: 'varchar', length: 200, select: false })
  secretEncrypted: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  /** When a first code turned it on; null while pending. */
  @Column({ name: 'confirmed_at', type: Date, nullable: true })
  confirmedAt: Date | null;

  /** The latest time step whose code was accepted: that code and every earlier one are refused (replay). */
  @Column({ name: 'last_used_step', type: 'integer', nullable: true })
  lastUsedStep: number | null;

  @Column({ name: 'last_used_at', type: Date, nullable: true })
  lastUsedAt: Date | null;
}
