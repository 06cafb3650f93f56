/** The browser specs (test/browser): real Chromium driven by playwright-core; `npm run test:browser`. */
module.exports = {
  ...require('./jest.config'),
  testRegex: 'test/browser/.*\\.browser-spec\\.ts$',
  testTimeout: 60000,
};
