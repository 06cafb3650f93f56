import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/**
 * The single-use links sent by mail (src/auth/email-tokens.service.ts): a password reset, an
 * address to verify, a new address to confirm. Only the token's keyed hash is stored. A row is kept
 * after use (`used_at`) or once a newer link made it void, so the number of links an account was
 * sent in the last hour can be counted from the table; the cleanup job deletes rows past their
 * expiry by RETENTION_DAYS.
 */
export class EmailTokens1764900000000 implements MigrationInterface {
  name = 'EmailTokens1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const time = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'email_tokens',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'user_id', type: 'integer' },
          // reset_password, verify_email or change_email.
          { name: 'purpose', type: 'varchar', length: '20' },
          // The address the link was sent to: the one it verifies, or the new one it confirms.
          { name: 'email', type: 'varchar', length: '254' },
          // HMAC-SHA-256 (hex) of the token under a key derived from SECRET_KEY.
          { name: 'token_hash', type: 'varchar', length: '64' },
          // The account's credential version when the link was sent (an e-mail change needs it unchanged).
          { name: 'credential_version', type: 'integer' },
          { name: 'created_at', type: time },
          { name: 'expires_at', type: time },
          // Used, or made void (a newer link of the same purpose, a password reset, an e-mail change).
          { name: 'used_at', type: time, isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'uq_email_tokens_token_hash', columnNames: ['token_hash'], isUnique: true }),
          // Superseding a user's older links, and counting those sent in the last hour.
          new TableIndex({ name: 'ix_email_tokens_user', columnNames: ['user_id', 'purpose', 'created_at'] }),
          // The cleanup job's deletion.
          new TableIndex({ name: 'ix_email_tokens_expires', columnNames: ['expires_at'] }),
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
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('email_tokens');
  }
}
