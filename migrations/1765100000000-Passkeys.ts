import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/**
 * Passkeys (WebAuthn credentials, src/factors/passkeys.service.ts) and the challenges the server
 * issued for them. A passkey row keeps only what verifying an assertion needs (the credential id,
 * its COSE public key, the signature counter) and what the dashboard lists. A challenge is stored
 * as its SHA-256 only, is good for 2 minutes and is used at most once (`used_at`, set by one
 * conditional UPDATE); the cleanup job deletes expired ones.
 */
export class Passkeys1765100000000 implements MigrationInterface {
  name = 'Passkeys1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const time = postgres ? 'timestamptz' : 'datetime';
    // Booleans are stored as 0/1 by SQLite; TypeORM compares defaults in each dialect's own spelling.
    const no = postgres ? 'false' : '0';
    await queryRunner.createTable(
      new Table({
        name: 'passkeys',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'user_id', type: 'integer' },
          // The credential id as the browser gives it (base64url; at most 1023 bytes, so 1364 characters).
          { name: 'credential_id', type: 'varchar', length: '1364' },
          // The credential's COSE public key (base64url): public, but only this row may verify with it.
          { name: 'public_key', type: 'text' },
          // The authenticator's signature counter (unsigned 32-bit, hence bigint); 0 for those without one.
          { name: 'counter', type: 'bigint', default: 0 },
          // The WebAuthn user handle the credential was made for (base64url), checked at sign-in.
          { name: 'user_handle', type: 'varchar', length: '128' },
          { name: 'name', type: 'varchar', length: '100' },
          // The authenticator's transports as the browser reported them, space-separated.
          { name: 'transports', type: 'varchar', length: '200', default: "''" },
          // Backup eligible (BE) at creation; backed up (BS) as of the latest use.
          { name: 'backup_eligible', type: 'boolean', default: no },
          { name: 'backed_up', type: 'boolean', default: no },
          { name: 'aaguid', type: 'varchar', length: '36', isNullable: true },
          // The device of the session that added it, as that session records it.
          { name: 'device_browser', type: 'varchar', length: '50', isNullable: true },
          { name: 'device_os', type: 'varchar', length: '50', isNullable: true },
          { name: 'device_type', type: 'varchar', length: '20', isNullable: true },
          { name: 'created_at', type: time },
          { name: 'last_used_at', type: time, isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'uq_passkeys_credential_id', columnNames: ['credential_id'], isUnique: true }),
          new TableIndex({ name: 'ix_passkeys_user', columnNames: ['user_id'] }),
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
    await queryRunner.createTable(
      new Table({
        name: 'webauthn_challenges',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          // SHA-256 (hex) of the challenge: 32 random bytes need no key or stretching.
          { name: 'challenge_hash', type: 'varchar', length: '64' },
          // registration, authentication (a sign-in) or reauthentication.
          { name: 'purpose', type: 'varchar', length: '20' },
          // Bound to the account and session that asked (registration, re-authentication); null for a sign-in.
          { name: 'user_id', type: 'integer', isNullable: true },
          { name: 'session_id', type: 'integer', isNullable: true },
          { name: 'created_at', type: time },
          { name: 'expires_at', type: time },
          { name: 'used_at', type: time, isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'uq_webauthn_challenges_hash', columnNames: ['challenge_hash'], isUnique: true }),
          // The cleanup job's deletion.
          new TableIndex({ name: 'ix_webauthn_challenges_expires', columnNames: ['expires_at'] }),
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
    await queryRunner.dropTable('webauthn_challenges');
    await queryRunner.dropTable('passkeys');
  }
}
