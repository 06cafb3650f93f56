import { parseDevice } from './device';

describe('parseDevice', () => {
  it.each([
    [
      'Chrome on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
      { browser: 'Chrome', os: 'Windows', type: 'desktop' },
    ],
    [
      'Safari on iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
      { browser: 'Mobile Safari', os: 'iOS', type: 'mobile' },
    ],
    [
      'Safari on iPad',
      'Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
      { browser: 'Mobile Safari', os: 'iOS', type: 'tablet' },
    ],
    [
      'Firefox on Linux',
      'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
      { browser: 'Firefox', os: 'Linux', type: 'desktop' },
    ],
    [
      'Safari on a Mac',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      { browser: 'Safari', os: 'Mac OS', type: 'desktop' },
    ],
    [
      'Chrome on Android',
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
      { browser: 'Chrome', os: 'Android', type: 'mobile' },
    ],
    ['curl', 'curl/8.4.0', { browser: null, os: null, type: null }],
    ['an empty header', '', { browser: null, os: null, type: null }],
  ])('%s', (_name, ua, expected) => {
    expect(parseDevice(ua)).toEqual(expected);
  });

  it('gives nulls when there is no user agent', () => {
    expect(parseDevice(null)).toEqual({ browser: null, os: null, type: null });
  });
});
