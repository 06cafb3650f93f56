import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * `sessions.auth_methods`: how each session was made (RFC 8176 method names, space-separated), the
 * `amr` of the API. Every session before this one was made with a password.
 */
export class AuthMethods1765000000000 implements MigrationInterface {
  name = 'AuthMethods1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'sessions',
      new TableColumn({ name: 'auth_methods', type: 'varchar', length: '64', default: "'pwd'" }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sessions', 'auth_methods');
  }
}
