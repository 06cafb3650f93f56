import { MigrationInterface, QueryRunner } from 'typeorm';

/** Every timestamp column, by table. */
const TIMESTAMPS: Record<string, string[]> = {
  users: ['created_at', 'last_login'],
  sessions: ['login_time', 'last_activity', 'logout_time', 'expires_at'],
  chats: ['timestamp'],
  global_chat: ['timestamp'],
  login_attempts: ['attempted_at'],
};

/**
 * PostgreSQL: `timestamp` becomes `timestamptz`. A `timestamp` is read by the pg driver in the
 * server process's time zone, so two instances in different zones (or one whose TZ changed) would
 * disagree about every expiry; a `timestamptz` is an instant. The stored values were written in
 * UTC (the server's clock is UTC-based Dates), so they are read as UTC. SQLite stores the same text
 * either way: nothing to do there.
 */
export class TimestampWithTimeZone1764400000000 implements MigrationInterface {
  name = 'TimestampWithTimeZone1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.alter(queryRunner, 'timestamptz');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.alter(queryRunner, 'timestamp');
  }

  private async alter(queryRunner: QueryRunner, type: 'timestamptz' | 'timestamp'): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    for (const [table, columns] of Object.entries(TIMESTAMPS)) {
      const changes = columns.map((c) => `ALTER COLUMN "${c}" TYPE ${type} USING "${c}" AT TIME ZONE 'UTC'`);
      await queryRunner.query(`ALTER TABLE "${table}" ${changes.join(', ')}`);
    }
  }
}
