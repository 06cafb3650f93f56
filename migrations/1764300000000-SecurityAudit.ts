import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/**
 * The sign-in audit trail (login_attempts), read by /login_activity and pruned by the cleanup job,
 * and the index the cleanup job uses to find long-ended sessions.
 */
export class SecurityAudit1764300000000 implements MigrationInterface {
  name = 'SecurityAudit1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.createTable(
      new Table({
        name: 'login_attempts',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'attempted_at', type: postgres ? 'timestamp' : 'datetime' },
          { name: 'user_id', type: 'integer', isNullable: true },
          { name: 'email', type: 'varchar', length: '254' },
          { name: 'ip_address', type: 'varchar', length: '45', isNullable: true },
          { name: 'user_agent', type: 'varchar', length: '512', isNullable: true },
          { name: 'success', type: 'boolean' },
          { name: 'reason', type: 'varchar', length: '20' },
        ],
        indices: [
          // A user's latest attempts (/login_activity).
          new TableIndex({ name: 'ix_login_attempts_user', columnNames: ['user_id', 'id'] }),
          // Pruning by age.
          new TableIndex({ name: 'ix_login_attempts_time', columnNames: ['attempted_at'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
    await queryRunner.createIndex(
      'sessions',
      new TableIndex({ name: 'ix_sessions_ended', columnNames: ['is_active', 'logout_time'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('sessions', 'ix_sessions_ended');
    await queryRunner.dropTable('login_attempts');
  }
}
