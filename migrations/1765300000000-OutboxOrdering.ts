import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

const INDEX = new TableIndex({
  name: 'ix_outbox_ordering',
  columnNames: ['ordering_key', 'id'],
  where: 'sent_at IS NULL AND failed_at IS NULL',
});

/**
 * Ordered delivery in the outbox (session events as webhooks, src/webhooks): `ordering_key` groups
 * rows that must go out in the order written (one endpoint's events of one session or one user);
 * the worker's claim skips a row while an earlier row of its key is still pending. The index
 * answers that check ("a pending row of this key with a lower id?") from pending rows only.
 * Null for mail, which keeps no order.
 */
export class OutboxOrdering1765300000000 implements MigrationInterface {
  name = 'OutboxOrdering1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'outbox',
      new TableColumn({ name: 'ordering_key', type: 'varchar', length: '120', isNullable: true }),
    );
    await queryRunner.createIndex('outbox', INDEX);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('outbox', INDEX.name!);
    await queryRunner.dropColumn('outbox', 'ordering_key');
  }
}
