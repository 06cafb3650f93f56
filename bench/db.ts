import { join } from 'node:path';
import { Client } from 'pg';
import { onCleanup } from './cleanup';
import { REPO, runCommand } from './util';

export type DbKind = 'sqlite' | 'postgres';

/** One database the bench made for itself: a SQLite file in the temp folder, or a PostgreSQL database. */
export interface BenchDatabase {
  kind: DbKind;
  /** DATABASE_URL as the server reads it. */
  url: string;
  /** The SQLite file, for the seeder and the query plan. */
  file?: string;
  /** The PostgreSQL connection string, for the seeder and the query plan. */
  pgUrl?: string;
  label: string;
}

/** Trust auth on the local server, as the machine sets it up. */
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database named after this process (so two benches, or a bench and the tests,
 * never share one) and registers its removal.
 */
export async function createDatabase(kind: DbKind, name: string, tmpDir: string): Promise<BenchDatabase> {
  if (kind === 'sqlite') {
    const file = join(tmpDir, `${name}.db`);
    // SQLAlchemy-style: sqlite:/// followed by an absolute path gives four slashes.
    return { kind, file, url: `sqlite:///${file}`, label: file };
  }
  const database = `bench_${process.pid}_${name}`.toLowerCase();
  if (!/^[a-z0-9_]+$/.test(database)) throw new Error(`Unsafe database name ${database}`);
  await withAdmin((client) => client.query(`CREATE DATABASE ${database}`));
  // Registered straight after CREATE: a failure anywhere later still drops it. FORCE ends the
  // connections of a server that has not died yet.
  onCleanup(`drop database ${database}`, () =>
    withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).then(() => undefined),
  );
  const pgUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
  return { kind, pgUrl, url: pgUrl, label: `${database} on 127.0.0.1:5432` };
}

/** Applies the project's migrations exactly as a deploy would: `npm run migration:run`. */
export async function migrate(db: BenchDatabase, secretKey: string, logFile: string): Promise<void> {
  await runCommand('npm', ['run', 'migration:run'], {
    cwd: REPO,
    env: { ...process.env, DATABASE_URL: db.url, SECRET_KEY: secretKey, NODE_ENV: 'development' },
    logFile,
  });
}
