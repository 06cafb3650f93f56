import { decideCrossSite, type CrossSiteFacts } from './cross-site';

const ALLOWED = new Set(['https://app.example.com']);

function facts(overrides: Partial<CrossSiteFacts>): CrossSiteFacts {
  return {
    method: 'POST',
    stateChangingRead: false,
    protocol: 'http',
    host: 'api.example.com',
    origin: undefined,
    secFetchSite: undefined,
    ...overrides,
  };
}

describe('decideCrossSite', () => {
  it.each<[string, 'allowed' | 'refused', Partial<CrossSiteFacts>]>([
    // Safe methods never change state.
    ['GET cross-site', 'allowed', { method: 'GET', secFetchSite: 'cross-site', origin: 'https://evil.example' }],
    ['HEAD cross-site', 'allowed', { method: 'HEAD', secFetchSite: 'cross-site' }],
    [
      'OPTIONS cross-site (a preflight)',
      'allowed',
      { method: 'OPTIONS', secFetchSite: 'cross-site', origin: 'https://evil.example' },
    ],
    // ...except on a route that changes state on a safe method (GET /logout ends the session).
    ['GET /logout cross-site', 'refused', { method: 'GET', stateChangingRead: true, secFetchSite: 'cross-site' }],
    [
      'HEAD /logout cross-site (Express runs the GET handler)',
      'refused',
      { method: 'HEAD', stateChangingRead: true, secFetchSite: 'cross-site' },
    ],
    [
      'GET /logout cross-site from an allowed origin',
      'allowed',
      { method: 'GET', stateChangingRead: true, secFetchSite: 'cross-site', origin: 'https://app.example.com' },
    ],
    ['GET /logout same-site', 'allowed', { method: 'GET', stateChangingRead: true, secFetchSite: 'same-site' }],
    ['GET /logout same-origin', 'allowed', { method: 'GET', stateChangingRead: true, secFetchSite: 'same-origin' }],
    [
      'GET /logout none (typed in the address bar)',
      'allowed',
      { method: 'GET', stateChangingRead: true, secFetchSite: 'none' },
    ],
    ['GET /logout without headers', 'allowed', { method: 'GET', stateChangingRead: true }],
    [
      'OPTIONS /logout cross-site',
      'allowed',
      { method: 'OPTIONS', stateChangingRead: true, secFetchSite: 'cross-site' },
    ],
    // Fetch Metadata decides when present.
    ['POST same-origin', 'allowed', { secFetchSite: 'same-origin' }],
    ['POST none', 'allowed', { secFetchSite: 'none' }],
    ['POST same-site', 'refused', { secFetchSite: 'same-site' }],
    ['POST cross-site', 'refused', { secFetchSite: 'cross-site' }],
    ['POST with an unknown Sec-Fetch-Site', 'refused', { secFetchSite: 'sideways' }],
    ['POST Sec-Fetch-Site in capitals', 'allowed', { secFetchSite: 'Same-Origin' }],
    [
      'POST same-origin whatever Origin says',
      'allowed',
      { secFetchSite: 'same-origin', origin: 'https://evil.example' },
    ],
    [
      "POST cross-site from the server's own Origin (Fetch Metadata wins)",
      'refused',
      { secFetchSite: 'cross-site', origin: 'http://api.example.com' },
    ],
    // An allowed origin passes whatever Sec-Fetch-Site says.
    [
      'POST cross-site from an allowed origin',
      'allowed',
      { secFetchSite: 'cross-site', origin: 'https://app.example.com' },
    ],
    [
      'POST same-site from an allowed origin',
      'allowed',
      { secFetchSite: 'same-site', origin: 'https://app.example.com' },
    ],
    ['POST from an allowed origin without Fetch Metadata', 'allowed', { origin: 'https://app.example.com' }],
    [
      'POST from an allowed origin but another scheme',
      'refused',
      { secFetchSite: 'cross-site', origin: 'http://app.example.com' },
    ],
    ['POST from an allowed origin but another port', 'refused', { origin: 'https://app.example.com:8443' }],
    ['POST from a subdomain of an allowed origin', 'refused', { origin: 'https://evil.app.example.com' }],
    // Without Fetch Metadata, Origin decides.
    ['POST with neither header (curl)', 'allowed', {}],
    ['POST with an empty Origin and Sec-Fetch-Site', 'allowed', { origin: '', secFetchSite: '' }],
    ["POST from the server's own origin", 'allowed', { origin: 'http://api.example.com' }],
    ["POST from the server's own origin, default port spelled out", 'allowed', { origin: 'http://api.example.com:80' }],
    [
      "POST from the server's own origin, Host in capitals",
      'allowed',
      { origin: 'http://api.example.com', host: 'API.Example.com' },
    ],
    ["POST from the server's host but https (scheme differs)", 'refused', { origin: 'https://api.example.com' }],
    [
      "POST from the server's host and scheme behind a TLS proxy",
      'allowed',
      { origin: 'https://api.example.com', protocol: 'https' },
    ],
    ["POST from the server's host on another port", 'refused', { origin: 'http://api.example.com:8080' }],
    ['POST from another origin', 'refused', { origin: 'https://evil.example' }],
    ['POST with Origin: null (sandboxed frame, data: URL)', 'refused', { origin: 'null' }],
    ['POST with a malformed Origin', 'refused', { origin: 'not a url' }],
    ['POST with a non-http Origin', 'refused', { origin: 'file://' }],
    ['POST with an Origin but no Host', 'refused', { origin: 'http://api.example.com', host: undefined }],
    // Every state-changing method, on any route.
    ['PUT cross-site', 'refused', { method: 'PUT', secFetchSite: 'cross-site' }],
    ['PATCH cross-site', 'refused', { method: 'PATCH', secFetchSite: 'cross-site' }],
    ['DELETE cross-site', 'refused', { method: 'DELETE', secFetchSite: 'cross-site' }],
    ['an unusual method cross-site', 'refused', { method: 'PROPFIND', secFetchSite: 'cross-site' }],
    ['POST /signup cross-site', 'refused', { secFetchSite: 'cross-site' }],
    ['POST /login from another origin', 'refused', { origin: 'https://evil.example' }],
    ['POST /logout same-site', 'refused', { stateChangingRead: true, secFetchSite: 'same-site' }],
    ['POST to an unknown route cross-site', 'refused', { secFetchSite: 'cross-site' }],
  ])('%s: %s', (_case, expected, overrides) => {
    expect(decideCrossSite(facts(overrides), ALLOWED).allowed).toBe(expected === 'allowed');
  });

  it('names why a request was refused, without echoing the Origin', () => {
    const reasons = [
      decideCrossSite(facts({ secFetchSite: 'cross-site' }), ALLOWED),
      decideCrossSite(facts({ secFetchSite: 'same-site' }), ALLOWED),
      decideCrossSite(facts({ secFetchSite: '<script>' }), ALLOWED),
      decideCrossSite(facts({ origin: 'null' }), ALLOWED),
      decideCrossSite(facts({ origin: 'https://evil.example' }), ALLOWED),
      decideCrossSite(facts({ method: 'GET', stateChangingRead: true, secFetchSite: 'cross-site' }), ALLOWED),
    ].map((v) => (v.allowed ? 'allowed' : v.reason));
    expect(reasons).toEqual([
      'Sec-Fetch-Site is cross-site',
      'Sec-Fetch-Site is same-site',
      'Sec-Fetch-Site is not same-origin',
      'Origin is null',
      "Origin is neither this server's nor an allowed origin",
      'a cross-site page cannot log you out',
    ]);
  });

  it('trusts nothing when no origin is allowed', () => {
    expect(
      decideCrossSite(facts({ origin: 'https://app.example.com', secFetchSite: 'cross-site' }), new Set()).allowed,
    ).toBe(false);
  });
});
