import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { migrations } from '../migrations';
import { AppDataSource, buildDataSourceOptions } from '../src/config/database.options';

export const SCHEMA_FILE = resolve(__dirname, '..', 'docs', 'DATABASE_SCHEMA.sql');

/**
 * The schema as SQL, produced by running every migration on an empty SQLite database and reading
 * back what SQLite stored. docs/DATABASE_SCHEMA.sql is this output; a test fails when they differ.
 */
export async function renderSchemaSql(): Promise<string> {
  const dataSource = new AppDataSource({
    // The migrations alone make the schema; the entities play no part.
    ...buildDataSourceOptions({ databaseUrl: 'sqlite:///:memory:', migrationsRun: false }, { migrations }),
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    const rows: Array<{ type: string; name: string; sql: string }> = await dataSource.query(
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name <> 'migrations' ORDER BY rowid",
    );
    const header = [
      '-- Database schema of the session server (SQLite dialect).',
      '-- Generated from the migrations in migrations/ by `npm run schema:sql`; do not edit by hand.',
      '-- PostgreSQL gets the same tables from the same migrations, with `timestamptz` for `datetime`',
      '-- and `serial`-style identity for the integer primary keys.',
      '',
      '',
    ];
    return header.join('\n') + rows.map((r) => `${r.sql.trim()};\n`).join('\n');
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  renderSchemaSql()
    .then((sql) => {
      writeFileSync(SCHEMA_FILE, sql);
      console.log(`wrote ${SCHEMA_FILE}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
