import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** One single-use recovery code (migrations/1765200000000-Totp.ts); only its keyed hash is stored. */
@Entity({ name: 'recovery_codes' })
@Index('ix_recovery_codes_user', ['userId', 'codeHash'])
export class RecoveryCode {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** HMAC-SHA-256 of the normalised code (recovery-codes.ts). */
  @Column({ name: 'code_hash', type: 'varchar', length: 64, select: false })
  codeHash: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt: Date | null;
}
