import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/**
 * The outbox (src/mail/outbox.service.ts): work that must happen because a change committed — a
 * mail for now — written in the change's own transaction and delivered afterwards, with retries.
 * `kind` says what a row is and `payload` (text, JSON) what to do; nothing here is mail-specific,
 * so later kinds of outgoing events share the table and its worker.
 *
 * Also `users.email_verified` (API.md's User object): false for every existing account, since no
 * address was ever confirmed; the verification and reset flows set it.
 */
export class Outbox1764800000000 implements MigrationInterface {
  name = 'Outbox1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const time = postgres ? 'timestamptz' : 'datetime';
    const no = postgres ? 'false' : '0';
    await queryRunner.createTable(
      new Table({
        name: 'outbox',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'kind', type: 'varchar', length: '30' },
          { name: 'payload', type: 'text' },
          { name: 'created_at', type: time },
          // Not before this time: the next attempt, moved on by the backoff after each failure.
          { name: 'available_at', type: time },
          { name: 'attempts', type: 'integer', default: '0' },
          // The failure's class and code only (never a message that could quote an address or a secret).
          { name: 'last_error', type: 'varchar', length: '200', isNullable: true },
          { name: 'sent_at', type: time, isNullable: true },
          // Given up: the server refused the message for good (5xx), or every attempt failed.
          { name: 'failed_at', type: time, isNullable: true },
          // The claim of one instance's worker: no other takes the row until this time has passed.
          { name: 'locked_until', type: time, isNullable: true },
          { name: 'locked_by', type: 'varchar', length: '64', isNullable: true },
        ],
        indices: [
          // The worker's scan: rows still to deliver, in order of their next attempt.
          new TableIndex({
            name: 'ix_outbox_pending',
            columnNames: ['available_at'],
            where: 'sent_at IS NULL AND failed_at IS NULL',
          }),
        ],
      }),
    );
    await queryRunner.addColumn('users', new TableColumn({ name: 'email_verified', type: 'boolean', default: no }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('users', 'email_verified');
    await queryRunner.dropTable('outbox');
  }
}
