import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** What a WebAuthn challenge was issued for; one issued for one purpose is refused for any other. */
export const CHALLENGE_PURPOSES = ['registration', 'authentication', 'reauthentication'] as const;
export type ChallengePurpose = (typeof CHALLENGE_PURPOSES)[number];

/** A challenge the server issued (migrations/1765100000000-Passkeys.ts says what each column is for). */
@Entity({ name: 'webauthn_challenges' })
@Index('ix_webauthn_challenges_expires', ['expiresAt'])
export class WebauthnChallenge {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  /** SHA-256 (hex) of the challenge; the challenge itself is only in the options the client got. */
  @Index('uq_webauthn_challenges_hash', { unique: true })
  @Column({ name: 'challenge_hash', type: 'varchar', length: 64 })
  challengeHash: string;

  @Column({ type: 'varchar', length: 20 })
  purpose: ChallengePurpose;

  @Column({ name: 'user_id', type: 'integer', nullable: true })
  userId: number | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ name: 'session_id', type: 'integer', nullable: true })
  sessionId: number | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt: Date | null;
}
