import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/**
 * The whole schema of the original system (users, sessions, chats, global chat) with the session
 * columns this server adds (token_hash instead of the raw token, end_reason). Written with the
 * QueryRunner API and portable types so one migration set serves SQLite and PostgreSQL.
 */
export class InitialSchema1764200000000 implements MigrationInterface {
  name = 'InitialSchema1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const time = postgres ? 'timestamp' : 'datetime';
    // Booleans are stored as 0/1 by SQLite; TypeORM compares defaults in each dialect's own spelling.
    const yes = postgres ? 'true' : '1';
    const id = {
      name: 'id',
      type: 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment' as const,
    };
    const userRef = (name: string) => ({ name, type: 'integer', isNullable: false });

    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          id,
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'phone', type: 'varchar', length: '20' },
          { name: 'email', type: 'varchar', length: '254' },
          { name: 'password_hash', type: 'varchar', length: '100' },
          { name: 'created_at', type: time },
          { name: 'last_login', type: time, isNullable: true },
          { name: 'is_active', type: 'boolean', default: yes },
        ],
        indices: [new TableIndex({ name: 'uq_users_email', columnNames: ['email'], isUnique: true })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          id,
          userRef('user_id'),
          { name: 'token_hash', type: 'varchar', length: '64' },
          { name: 'ip_address', type: 'varchar', length: '45', isNullable: true },
          { name: 'user_agent', type: 'varchar', length: '512', isNullable: true },
          { name: 'login_time', type: time },
          { name: 'last_activity', type: time },
          { name: 'logout_time', type: time, isNullable: true },
          { name: 'is_active', type: 'boolean', default: yes },
          { name: 'expires_at', type: time },
          { name: 'end_reason', type: 'varchar', length: '20', isNullable: true },
        ],
        indices: [
          // The guard's lookup: one row by token hash on every request.
          new TableIndex({ name: 'uq_sessions_token_hash', columnNames: ['token_hash'], isUnique: true }),
          // A user's active sessions (the list, counts, "end all others").
          new TableIndex({ name: 'ix_sessions_user_active', columnNames: ['user_id', 'is_active'] }),
          // Finding active sessions past their expiry (cleanup).
          new TableIndex({ name: 'ix_sessions_active_expires', columnNames: ['is_active', 'expires_at'] }),
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
        name: 'chats',
        columns: [
          id,
          userRef('sender_id'),
          userRef('receiver_id'),
          { name: 'message', type: 'text' },
          { name: 'timestamp', type: time },
        ],
        indices: [
          // One conversation, newest first, in either direction.
          new TableIndex({ name: 'ix_chats_sender_receiver', columnNames: ['sender_id', 'receiver_id', 'id'] }),
          new TableIndex({ name: 'ix_chats_receiver_sender', columnNames: ['receiver_id', 'sender_id', 'id'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            columnNames: ['sender_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
          new TableForeignKey({
            columnNames: ['receiver_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'global_chat',
        columns: [id, userRef('user_id'), { name: 'message', type: 'text' }, { name: 'timestamp', type: time }],
        indices: [new TableIndex({ name: 'ix_global_chat_user', columnNames: ['user_id'] })],
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
    await queryRunner.dropTable('global_chat');
    await queryRunner.dropTable('chats');
    await queryRunner.dropTable('sessions');
    await queryRunner.dropTable('users');
  }
}
