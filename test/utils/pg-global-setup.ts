import { randomBytes } from 'node:crypto';
import { migrations } from '../../migrations';
import { AppDataSource, buildDataSourceOptions } from '../../src/config/database.options';
import { createScratchDatabase } from './postgres';

/**
 * `npm run test:pg`, before any spec: makes this run's template database (every migration applied)
 * and names it in TEST_PG_TEMPLATE, so each test app starts from a copy of it (CREATE DATABASE …
 * TEMPLATE is a file copy: far faster than migrating each one). pg-global-teardown.ts drops it and
 * every database made from it.
 */
export default async function setup(): Promise<void> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const run = `sessions_test_${randomBytes(4).toString('hex')}`;
  const template = await createScratchDatabase(adminUrl, run);
  const dataSource = new AppDataSource(
    buildDataSourceOptions({ databaseUrl: template.url, migrationsRun: false }, { migrations }),
  );
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
  process.env.TEST_PG_RUN = run;
  process.env.TEST_PG_TEMPLATE = new URL(template.url).pathname.slice(1);
}
