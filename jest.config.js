/** Unit specs live beside the code (src/**\/*.spec.ts), end-to-end specs in test/. */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '(src|test)/.*\\.(e2e-)?spec\\.ts$',
  // test/scale: several instances, outages, replica, pooler — PostgreSQL only, run by npm run test:pg.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/scale/'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  testTimeout: 20000,
};
