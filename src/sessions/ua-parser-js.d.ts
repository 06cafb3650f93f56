/**
 * ua-parser-js 1.x (MIT; 2.x is AGPL) ships no types: this is the part of its result that
 * src/sessions/device.ts reads.
 */
declare module 'ua-parser-js' {
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
