import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** What a link sent by mail is for. */
export const EMAIL_TOKEN_PURPOSES = ['reset_password', 'verify_email', 'change_email'] as const;
export type EmailTokenPurpose = (typeof EMAIL_TOKEN_PURPOSES)[number];

/** A link sent by mail (migrations/1764900000000-EmailTokens.ts says what each column is for). */
@Entity({ name: 'email_tokens' })
@Index('ix_email_tokens_user', ['userId', 'purpose', 'createdAt'])
@Index('ix_email_tokens_expires', ['expiresAt'])
export class EmailToken {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 20 })
  purpose: EmailTokenPurpose;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  /** HMAC-SHA-256 of the token (email-tokens.ts): the raw token exists only in the mail. */
  @Index('uq_email_tokens_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64, select: false })
  tokenHash: string;

  @Column({ name: 'credential_version', type: 'integer' })
  credentialVersion: number;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt: Date | null;
}
