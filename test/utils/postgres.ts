import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

/**
 * The PostgreSQL server to test against, when one is configured: an admin URL such as
 * postgres://postgres@127.0.0.1:5432/postgres. `npm run test:pg` sets TEST_DATABASE_URL to that
 * address unless it is set already; CI sets it for `npm test` too. Specs define their
 * PostgreSQL-only cases only when it is set, so `npm test` on a machine without PostgreSQL runs
 * the rest. (TEST_POSTGRES_URL is the older name, still read.)
 */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? process.env.TEST_POSTGRES_URL;

/**
 * True in `npm run test:pg`: every test app runs on a PostgreSQL database of its own, cloned from
 * the migrated template that test/utils/pg-global-setup.ts made for this run.
 */
export const ON_POSTGRES = process.env.TEST_DATABASE === 'postgres';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** `url` with its database name replaced. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Runs one statement on the admin database (CREATE / DROP DATABASE cannot run in a transaction). */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates an empty database of its own for one spec (or a copy of `template`); `drop()` removes it. */
export async function createScratchDatabase(
  adminUrl: string,
  prefix: string,
  template?: string,
): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  return {
    url: databaseUrl(adminUrl, name),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/** The names of the databases whose name starts with `prefix`. */
export async function databasesNamed(adminUrl: string, prefix: string): Promise<string[]> {
  const admin = new DataSource({ type: 'postgres', url: adminUrl });
  await admin.initialize();
  try {
    const rows: Array<{ datname: string }> = await admin.query(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [prefix],
    );
    return rows.map((r) => r.datname);
  } finally {
    await admin.destroy();
  }
}
