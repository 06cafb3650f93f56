import { adminQuery, databasesNamed } from './postgres';

/** `npm run test:pg`, after every spec: drops this run's template and any database a spec left. */
export default async function teardown(): Promise<void> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const run = process.env.TEST_PG_RUN;
  if (!run) return;
  for (const name of await databasesNamed(adminUrl, run))
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
