import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A row of the outbox (migrations/1764800000000-Outbox.ts says what each column is for). */
@Entity({ name: 'outbox' })
@Index('ix_outbox_pending', ['availableAt'], { where: 'sent_at IS NULL AND failed_at IS NULL' })
// The cleanup job's retention (migrations/1764820000000-OutboxRetention.ts).
@Index('ix_outbox_sent', ['sentAt'], { where: 'sent_at IS NOT NULL' })
@Index('ix_outbox_failed', ['failedAt'], { where: 'failed_at IS NOT NULL' })
// The claim's "an earlier row of this key is pending" check (migrations/1765300000000-OutboxOrdering.ts).
@Index('ix_outbox_ordering', ['orderingKey', 'id'], { where: 'sent_at IS NULL AND failed_at IS NULL' })
export class OutboxEntry {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 30 })
  kind: string;

  /** JSON; emptied once sent (a mail's links hold tokens, which should not outlive their use here). */
  @Column({ type: 'text' })
  payload: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'available_at', type: Date })
  availableAt: Date;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'varchar', length: 200, nullable: true })
  lastError: string | null;

  @Column({ name: 'sent_at', type: Date, nullable: true })
  sentAt: Date | null;

  @Column({ name: 'failed_at', type: Date, nullable: true })
  failedAt: Date | null;

  @Column({ name: 'locked_until', type: Date, nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'locked_by', type: 'varchar', length: 64, nullable: true })
  lockedBy: string | null;

  /** Rows of one key are delivered in order (a webhook endpoint and session, say); null: no order. */
  @Column({ name: 'ordering_key', type: 'varchar', length: 120, nullable: true })
  orderingKey: string | null;
}
