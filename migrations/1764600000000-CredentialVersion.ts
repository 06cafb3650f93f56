import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Credential versions: a user's `credential_version` goes up with every credential change (a
 * password change or reset, a disable, an "end all"), and a session records the version it was
 * born under; the guard refuses a session whose version is no longer its user's. Every row of
 * before starts at 0, so every existing session stays valid.
 */
export class CredentialVersion1764600000000 implements MigrationInterface {
  name = 'CredentialVersion1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const version = () => new TableColumn({ name: 'credential_version', type: 'integer', default: 0 });
    await queryRunner.addColumn('users', version());
    await queryRunner.addColumn('sessions', version());
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sessions', 'credential_version');
    await queryRunner.dropColumn('users', 'credential_version');
  }
}
