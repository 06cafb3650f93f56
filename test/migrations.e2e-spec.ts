import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { AppDataSource, buildDataSourceOptions } from '../src/config/database.options';
import { renderSchemaSql, SCHEMA_FILE } from '../scripts/schema-sql';
import { createScratchDatabase, TEST_POSTGRES_URL } from './utils/postgres';

const TABLES = ['chats', 'global_chat', 'login_attempts', 'sessions', 'users'];

/** Which of the schema's tables exist. */
async function tableNames(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const present: string[] = [];
    for (const table of TABLES) if (await runner.hasTable(table)) present.push(table);
    return present;
  } finally {
    await runner.release();
  }
}

/** Runs every migration up, checks the entities need no further change, then every migration down. */
async function upAndDown(databaseUrl: string): Promise<void> {
  const dataSource = new AppDataSource(buildDataSourceOptions({ databaseUrl, migrationsRun: false }));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    expect(applied.length).toBe(dataSource.migrations.length);
    expect(await tableNames(dataSource)).toEqual(TABLES);
    // The entities and the migrations describe the same schema: nothing left to synchronise.
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);

    for (let i = 0; i < applied.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tableNames(dataSource)).toEqual([]);
    // And up again, as a redeploy after a rollback would.
    await dataSource.runMigrations();
    expect(await tableNames(dataSource)).toEqual(TABLES);
  } finally {
    await dataSource.destroy();
  }
}

describe('Migrations', () => {
  it('run up and back down on SQLite, matching the entities', async () => {
    await upAndDown('sqlite:///:memory:');
  });

  it('produce exactly docs/DATABASE_SCHEMA.sql (regenerate with npm run schema:sql)', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await renderSchemaSql());
  });

  // PostgreSQL: where a server is configured (CI), on a database of its own, dropped afterwards.
  const adminUrl = TEST_POSTGRES_URL;
  if (adminUrl) {
    it('run up and back down on PostgreSQL, matching the entities', async () => {
      const db = await createScratchDatabase(adminUrl, 'migrations');
      try {
        await upAndDown(db.url);
      } finally {
        await db.drop();
      }
    });
  }
});
