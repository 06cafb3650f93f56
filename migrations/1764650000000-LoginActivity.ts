import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

const INDEX = new TableIndex({
  name: 'ix_login_attempts_user_success',
  columnNames: ['user_id', 'success', 'id'],
});

/**
 * /login_activity always lists the account's latest successful sign-ins, however many failures came
 * after them: this index finds those 20 directly, where (user_id, id) would walk back through every
 * failure in between (up to LOGIN_LIMIT_ACCOUNT per window, RETENTION_DAYS long).
 */
export class LoginActivity1764650000000 implements MigrationInterface {
  name = 'LoginActivity1764650000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex('login_attempts', INDEX);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('login_attempts', INDEX.name!);
  }
}
