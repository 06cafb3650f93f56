import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

const INDEXES = [
  new TableIndex({ name: 'ix_outbox_sent', columnNames: ['sent_at'], where: 'sent_at IS NOT NULL' }),
  new TableIndex({ name: 'ix_outbox_failed', columnNames: ['failed_at'], where: 'failed_at IS NOT NULL' }),
];

/**
 * The cleanup job deletes outbox rows sent or given up more than RETENTION_DAYS ago, every pass:
 * without these it would read the whole table (every mail of the retention period) each time, and
 * on SQLite hold the one connection while doing so. Partial: pending rows, the only ones without
 * either time, are not in them (the worker finds those through ix_outbox_pending).
 */
export class OutboxRetention1764820000000 implements MigrationInterface {
  name = 'OutboxRetention1764820000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const index of INDEXES) await queryRunner.createIndex('outbox', index);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of INDEXES) await queryRunner.dropIndex('outbox', index.name!);
  }
}
