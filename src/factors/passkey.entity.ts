import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** PostgreSQL hands a bigint back as text; the counter fits a JavaScript number (it is 32-bit). */
const bigintAsNumber = {
  to: (value: number) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** A passkey (a WebAuthn credential) of an account (migrations/1765100000000-Passkeys.ts says what each column is for). */
@Entity({ name: 'passkeys' })
@Index('ix_passkeys_user', ['userId'])
export class Passkey {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** base64url, as the browser sends it in `id`. */
  @Index('uq_passkeys_credential_id', { unique: true })
  @Column({ name: 'credential_id', type: 'varchar', length: 1364 })
  credentialId: string;

  /** The COSE public key, base64url. */
  @Column({ name: 'public_key', type: 'text' })
  publicKey: string;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  counter: number;

  @Column({ name: 'user_handle', type: 'varchar', length: 128 })
  userHandle: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** Space-separated AuthenticatorTransport values ('' when the browser named none). */
  @Column({ type: 'varchar', length: 200, default: '' })
  transports: string;

  @Column({ name: 'backup_eligible', type: Boolean, default: false })
  backupEligible: boolean;

  @Column({ name: 'backed_up', type: Boolean, default: false })
  backedUp: boolean;

  @Column({ type: 'varchar', length: 36, nullable: true })
  aaguid: string | null;

  @Column({ name: 'device_browser', type: 'varchar', length: 50, nullable: true })
  deviceBrowser: string | null;

  @Column({ name: 'device_os', type: 'varchar', length: 50, nullable: true })
  deviceOs: string | null;

  @Column({ name: 'device_type', type: 'varchar', length: 20, nullable: true })
  deviceType: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: Date, nullable: true })
  lastUsedAt: Date | null;
}
