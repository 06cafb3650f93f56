/**
 * The package's own browser build (UMD, CommonJS under Node), the file the dashboard is served:
 * server and pages parse user agents with the same code. ua-parser-js 1.x ships no types; this is
 * the part of its result that src/sessions/device.ts reads.
 */
declare module 'ua-parser-js/dist/ua-parser.min.js' {
  interface UAResult {
    browser: { name?: string };
    os: { name?: string };
    device: { type?: string };
  }
  class UAParser {
    constructor(ua?: string);
    getResult(): UAResult;
  }
  export = UAParser;
}
