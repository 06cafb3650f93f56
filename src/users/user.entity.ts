import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'users' })
export class User {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 20 })
  phone: string;

  @Index('uq_users_email', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email: string;

  /** bcrypt hash ($2b$, or $2a$/$2y$ from the original system). Never selected unless asked for. */
  @Column({ name: 'password_hash', type: 'varchar', length: 100, select: false })
  passwordHash: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'last_login', type: Date, nullable: true })
  lastLogin: Date | null;

  @Column({ name: 'is_active', type: Boolean, default: true })
  isActive: boolean;

  /** Listed in ADMIN_EMAILS (set at start and at signup): may use the /admin routes. */
  @Column({ name: 'is_admin', type: Boolean, default: false })
  isAdmin: boolean;

  /**
   * The address has been proven to be the user's (a verification or reset link was used). False for
   * accounts made before the column existed: none of their addresses had been confirmed.
   */
  @Column({ name: 'email_verified', type: Boolean, default: false })
  emailVerified: boolean;

  /**
   * Goes up by one with every credential change: a password change or reset, a disable, an "end
   * all" (UsersService.changeCredentials). A session is usable only while the version it was born
   * under (sessions.credential_version) is still this one.
   */
  @Column({ name: 'credential_version', type: 'integer', default: 0 })
  credentialVersion: number;
}
