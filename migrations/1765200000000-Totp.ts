import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

const userForeignKey = () =>
  new TableForeignKey({
    columnNames: ['user_id'],
    referencedTableName: 'users',
    referencedColumnNames: ['id'],
    onDelete: 'CASCADE',
  });

/**
 * The authenticator app (src/factors/): an account's TOTP secret, its recovery codes, and the
 * sign-ins waiting for the second factor.
 *
 * - `totp_factors`: one row per account that set an app up. The secret must be read back to check
 *   codes, so it is encrypted (AES-256-GCM under a key derived from SECRET_KEY), not hashed.
 *   `confirmed_at` null: set up, not yet confirmed by a first code (not on). `last_used_step`: the
 *   latest accepted time step, so a code (or an older one) is never accepted twice.
 * - `recovery_codes`: the ten single-use codes, as keyed hashes; `used_at` once used. New codes
 *   replace every old row.
 * - `pending_sign_ins`: a right password on an account with the app on. The token (in the
 *   `second_factor` cookie) is stored as its keyed hash; `credential_version` as the password was
 *   read, so a credential change since voids it; five minutes; `attempts` counts codes tried;
 *   `used_at` once finished or spent.
 */
export class Totp1765200000000 implements MigrationInterface {
  name = 'Totp1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const time = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'totp_factors',
        columns: [
          { name: 'user_id', type: 'integer', isPrimary: true },
          { name: 'secret_encrypted', type: 'varchar', length: '200' },
          { name: 'created_at', type: time },
          { name: 'confirmed_at', type: time, isNullable: true },
          { name: 'last_used_step', type: 'integer', isNullable: true },
          { name: 'last_used_at', type: time, isNullable: true },
        ],
        foreignKeys: [userForeignKey()],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'recovery_codes',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'user_id', type: 'integer' },
          { name: 'code_hash', type: 'varchar', length: '64' },
          { name: 'created_at', type: time },
          { name: 'used_at', type: time, isNullable: true },
        ],
        indices: [new TableIndex({ name: 'ix_recovery_codes_user', columnNames: ['user_id', 'code_hash'] })],
        foreignKeys: [userForeignKey()],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'pending_sign_ins',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'token_hash', type: 'varchar', length: '64' },
          { name: 'user_id', type: 'integer' },
          { name: 'credential_version', type: 'integer' },
          { name: 'remember_me', type: 'boolean', isNullable: true },
          { name: 'created_at', type: time },
          { name: 'expires_at', type: time },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'used_at', type: time, isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'uq_pending_sign_ins_token_hash', columnNames: ['token_hash'], isUnique: true }),
          // The cleanup job's deletion.
          new TableIndex({ name: 'ix_pending_sign_ins_expires', columnNames: ['expires_at'] }),
        ],
        foreignKeys: [userForeignKey()],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('pending_sign_ins');
    await queryRunner.dropTable('recovery_codes');
    await queryRunner.dropTable('totp_factors');
  }
}
