import fc from 'fast-check';
import { anyJsonBody, FIELD_NAMES, headerString, HOSTILE_KEYS, unicodeString } from '../utils/arbitraries';
import { usePropertyApp, expectSafe, percentEncode } from '../utils/property-checks';
import { ROUTES, samplePath } from '../utils/routes';
import { login, signup } from '../utils/test-app';

/**
 * Property 2: any bytes under any Content-Type, on every route of the catalogue, get a 2xx or a
 * 4xx, never a 5xx.
 *
 * What every property spec shares is said once, in test/utils/property-checks.ts.
 */
describe('Property tests (fast-check): any raw body under any Content-Type', () => {
  const { t, send, uniq } = usePropertyApp();

  const CONTENT_TYPES = [
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-8',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json;charset=',
    'APPLICATION/JSON',
    'application/vnd.api+json',
    'application/merge-patch+json',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=iso-8859-1',
    'multipart/form-data; boundary=xyz',
    'multipart/form-data',
    'text/plain',
    'text/html',
    'application/xml',
    'application/octet-stream',
    '*/*',
    'application/*',
    'json',
    'garbage',
    ';;;',
    'application/json; boundary=x; charset=utf-8; q=1',
    '',
  ];
  it('2. any raw body under any Content-Type → 2xx/4xx, never a 5xx', async () => {
    const owner = await signup(t.http, { email: `prop2-${uniq()}@example.com` });
    const shared = await login(t.http, owner);
    /** Every route of the catalogue, as the method, the path to call and whether a success ends the session. */
    const RAW_ROUTES = ROUTES.map(
      (r) => [r.method, samplePath(r, { caller: owner, other: owner, unique: uniq }), r.endsSession === true] as const,
    );

    const rawBody = fc.oneof(
      { arbitrary: unicodeString(200), weight: 4 },
      { arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), weight: 2 },
      { arbitrary: anyJsonBody.map((b) => b ?? ''), weight: 3 },
      {
        arbitrary: fc
          .array(fc.tuple(fc.constantFrom(...FIELD_NAMES, ...HOSTILE_KEYS, 'a[b]', 'a[]'), unicodeString(20)), {
            maxLength: 6,
          })
          .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${percentEncode(v)}`).join('&')),
        weight: 2,
      },
      { arbitrary: fc.stringMatching(/^[%&=+a-z0-9[\]]{0,60}$/), weight: 1 },
    );
    const contentType = fc.oneof(
      { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 4 },
      { arbitrary: headerString(40), weight: 1 },
    );

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...RAW_ROUTES),
        fc.boolean(),
        contentType,
        rawBody,
        async ([method, path, endsSession], signedIn, type, body) => {
          // A route that can end the session it carries gets a session of its own.
          const session = signedIn ? (endsSession ? await login(t.http, owner) : shared) : undefined;
          let req = send(method, path).set('Content-Type', type);
          if (session) req = req.set('Cookie', session.cookie);
          // The bytes as they are: superagent must not re-encode a body sent under a JSON type.
          const res = await req.serialize((raw: unknown) => raw as string).send(body as string);
          const shown = Buffer.isBuffer(body)
            ? `bytes ${body.toString('hex').slice(0, 200)}`
            : JSON.stringify(body.slice(0, 200));
          expectSafe(
            res,
            `${method.toUpperCase()} ${path} (${signedIn ? 'signed in' : 'signed out'}) Content-Type ${JSON.stringify(type)} body ${shown}`,
          );
        },
      ),
      { numRuns: 400 },
    );
  });
});
