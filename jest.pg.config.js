/**
 * `npm run test:pg`: the e2e specs with every test app on PostgreSQL (a database of its own each,
 * copied from a migrated template made for the run, all dropped at the end). TEST_DATABASE_URL
 * names the server, as an admin URL; by default the one on this machine.
 */
process.env.TEST_DATABASE = 'postgres';
process.env.TEST_DATABASE_URL ??= process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

module.exports = {
  ...require('./jest.config'),
  testRegex: 'test/.*\\.e2e-spec\\.ts$',
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/utils/pg-global-setup.ts',
  globalTeardown: '<rootDir>/test/utils/pg-global-teardown.ts',
};
