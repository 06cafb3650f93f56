import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

/**
 * The PostgreSQL server to test against, when one is configured (CI sets TEST_POSTGRES_URL to an
 * admin URL such as postgres://postgres@127.0.0.1:5432/postgres). Specs define their PostgreSQL
 * cases only when it is set, so `npm test` on a machine without PostgreSQL runs the rest.
 */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL;

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database of its own for one spec; `drop()` removes it. */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new DataSource({ type: 'postgres', url: adminUrl });
  await admin.initialize();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.destroy();
      }
    },
  };
}
