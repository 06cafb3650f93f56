import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { AppDataSource, buildDataSourceOptions } from '../src/config/database.options';
import { entities } from '../src/entities';
import { renderSchemaSql, SCHEMA_FILE } from '../scripts/schema-sql';
import { createScratchDatabase, TEST_POSTGRES_URL } from './utils/postgres';
import { createTestApp } from './utils/test-app';
import { migrations } from '../migrations';
import { EmailNfc1764700000000 } from '../migrations/1764700000000-EmailNfc';

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
  const dataSource = new AppDataSource(
    buildDataSourceOptions({ databaseUrl, migrationsRun: false }, { entities, migrations }),
  );
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

/**
 * EmailNfc on the rows of before: run every migration before it, insert addresses as the old code
 * stored them (trimmed and lower-cased only), then run it. Returns the addresses by id afterwards.
 */
async function emailNfcOn(databaseUrl: string, emails: string[]): Promise<string[]> {
  const before = migrations.slice(0, migrations.indexOf(EmailNfc1764700000000));
  const dataSource = new AppDataSource({
    ...buildDataSourceOptions({ databaseUrl, migrationsRun: false }, { entities, migrations: before }),
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    const postgres = dataSource.options.type === 'postgres';
    for (const [i, email] of emails.entries())
      await dataSource.query(
        postgres
          ? `INSERT INTO users (name, phone, email, password_hash, created_at) VALUES ('U', '5550100', $1, 'x', $2)`
          : `INSERT INTO users (name, phone, email, password_hash, created_at) VALUES ('U', '5550100', ?, 'x', ?)`,
        [email, new Date(Date.UTC(2025, 0, 1 + i)).toISOString()],
      );
    const runner = dataSource.createQueryRunner();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await new EmailNfc1764700000000().up(runner);
      if (emails.length > 3) expect(warn).toHaveBeenCalledWith(expect.stringMatching(/ids 4$/));
    } finally {
      warn.mockRestore();
      await runner.release();
    }
    const rows: Array<{ email: string }> = await dataSource.query('SELECT email FROM users ORDER BY id');
    return rows.map((r) => r.email);
  } finally {
    await dataSource.destroy();
  }
}

const EMAILS_BEFORE = [
  'jose\u0301@example.com', // decomposed é: becomes NFC
  'ada@example.com',
  'jos\u00e9@example.net',
  'jos\u00e9@example.net'.normalize('NFD'), // the NFC form is taken by the row above: kept, and its id printed
  '\uff42ob@example.com', // fullwidth b, stored as the old code lower-cased it
];
const EMAILS_AFTER = [
  'jos\u00e9@example.com',
  'ada@example.com',
  'jos\u00e9@example.net',
  'jos\u00e9@example.net'.normalize('NFD'),
  'bob@example.com',
];

describe('Migrations', () => {
  it('run up and back down on SQLite, matching the entities', async () => {
    await upAndDown('sqlite:///:memory:');
  });

  it('EmailNfc brings stored addresses to the normal form, keeping a look-alike pair apart (SQLite)', async () => {
    expect(await emailNfcOn('sqlite:///:memory:', EMAILS_BEFORE)).toEqual(EMAILS_AFTER);
  });

  it('are matched against the entities the app loads: each registered by its module, none missing from src/entities.ts', async () => {
    // The app collects its entities from the feature modules (autoLoadEntities); the CLI and the
    // checks above use the list. An entity only one of them knows would go unmigrated or unchecked.
    const testApp = await createTestApp();
    try {
      const loaded = testApp.dataSource.entityMetadatas.map((m) => m.target);
      expect(new Set(loaded)).toEqual(new Set(entities));
      expect(loaded).toHaveLength(entities.length);
    } finally {
      await testApp.close();
    }
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

    it('EmailNfc brings stored addresses to the normal form, keeping a look-alike pair apart (PostgreSQL)', async () => {
      const db = await createScratchDatabase(adminUrl, 'email_nfc');
      try {
        expect(await emailNfcOn(db.url, EMAILS_BEFORE)).toEqual(EMAILS_AFTER);
      } finally {
        await db.drop();
      }
    });
  }
});
