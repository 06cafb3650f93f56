import fc from 'fast-check';
import { anyJsonBody, bodyKey, FIELD_NAMES, jsonValueText } from '../utils/arbitraries';
import { usePropertyApp, expectSafe, expectStatus, fail } from '../utils/property-checks';
import { ROUTES, sampleStatus, type CatalogueRoute } from '../utils/routes';
import { login, signup, type LoggedIn } from '../utils/test-app';

/**
 * Property 1: any JSON body, or a valid body damaged a little, on every POST route of the catalogue,
 * signed in or out, gets a 2xx or a 4xx in the error shape; an undamaged body succeeds.
 *
 * What every property spec shares is said once, in test/utils/property-checks.ts.
 */
// One property walks every body-taking route (more with each feature): longer than the default
// 20 s on a loaded 2-core machine, with no timing asserted.
jest.setTimeout(90_000);

describe('Property tests (fast-check): any JSON body on every POST route', () => {
  const { t, send, uniq } = usePropertyApp();

  /** Every POST route of the catalogue (POST /logout reads no body, and must not mind one). */
  const BODY_ROUTES = ROUTES.filter((r) => r.method === 'post');

  it('1. any JSON body on every body-taking route, signed in or out → 2xx/4xx in the error shape, never a 5xx', async () => {
    const owner = await signup(t.http, { email: `prop1-${uniq()}@example.com` });
    const shared = await login(t.http, owner);
    // /change_password may succeed; it runs as a user of its own whose password the test follows.
    const changer = await signup(t.http, { email: `prop1-changer-${uniq()}@example.com` });

    /** A valid body for the route (the catalogue's), which the test then damages a little (or not at all). */
    const validBody = (route: CatalogueRoute): Record<string, unknown> =>
      route.body?.({ caller: route.path === '/change_password' ? changer : owner, other: owner, unique: uniq }) ?? {};
    type Damage =
      | { kind: 'set'; key: string; value: string }
      | { kind: 'drop'; key: string }
      | { kind: 'add'; key: string; value: string };
    const damage: fc.Arbitrary<Damage> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...FIELD_NAMES), value: jsonValueText }),
      fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...FIELD_NAMES) }),
      fc.record({ kind: fc.constant('add' as const), key: bodyKey, value: jsonValueText }),
    );
    /** JSON text of the valid body after the damage (each value of the valid body as JSON text). */
    const nearlyValid = (route: CatalogueRoute, damages: Damage[]): string => {
      const entries: Array<[string, string]> = Object.entries(validBody(route)).map(([k, v]) => [k, JSON.stringify(v)]);
      for (const d of damages) {
        const i = entries.findIndex(([k]) => k === d.key);
        if (d.kind === 'drop' && i >= 0) entries.splice(i, 1);
        else if (d.kind === 'set' && i >= 0) entries[i] = [d.key, d.value];
        // A key already there is written again: a duplicate key, which JSON.parse resolves to the last.
        else if (d.kind !== 'drop') entries.push([d.key, d.value]);
      }
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
    };
    /** Whether a JSON body asks POST /login for the token (of repeated keys the last counts, as for the server). */
    const returnTokenIn = (body: string | undefined): boolean => {
      try {
        const parsed: unknown = body === undefined ? undefined : JSON.parse(body);
        return (parsed as { return_token?: unknown } | null)?.return_token === true;
      } catch {
        return false;
      }
    };
    type BodySpec = { kind: 'any'; body: string | undefined } | { kind: 'nearly'; damages: Damage[] };
    const bodySpec: fc.Arbitrary<BodySpec> = fc.oneof(
      fc.record({ kind: fc.constant('any' as const), body: anyJsonBody }),
      fc.record({ kind: fc.constant('nearly' as const), damages: fc.array(damage, { maxLength: 2 }) }),
    );

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        fc.boolean(),
        fc.constantFrom('cookie', 'bearer'),
        bodySpec,
        async (route, signedIn, carrier, spec) => {
          const path = route.path;
          const body = spec.kind === 'any' ? spec.body : nearlyValid(route, spec.damages);
          // Routes that can end the session they carry get a session of their own.
          let session: LoggedIn | undefined;
          if (signedIn)
            session =
              path === '/change_password'
                ? await login(t.http, changer)
                : route.endsSession
                  ? await login(t.http, owner)
                  : shared;
          let req = send('post', path).set('Content-Type', 'application/json');
          if (session)
            req =
              carrier === 'cookie'
                ? req.set('Cookie', session.cookie)
                : req.set('Authorization', `Bearer ${session.token}`);
          const res = await (body === undefined ? req : req.send(body));
          const what = `POST ${path} (${signedIn ? 'signed in' : 'signed out'}) body ${body?.slice(0, 300)}`;
          // The token is in the body exactly when asked for (see expectSafe).
          const tokenAsked =
            (path === '/login' && returnTokenIn(body)) ||
            (path === '/change_password' && session !== undefined && carrier === 'bearer');
          expectSafe(res, what, { tokenAsked });
          // Logging out always works, with or without a session, unless the body could not be read
          // (JSON that is not an object or array is refused as malformed, like broken JSON).
          const unreadable =
            res.status === 413 || (res.status === 400 && res.body.message === 'Request body is not valid JSON');
          if (path === '/logout' && !unreadable) expectStatus(res, 200, what);
          // Signed out, a protected route never does anything but refuse: 401, unless the body could
          // not even be read (the parsers run before the guard: 413, or 400 for text that is not JSON).
          if (!signedIn && route.access === 'session' && !unreadable) expectStatus(res, 401, what);
          // An admin route does not exist for this ordinary caller, signed in or out: 404.
          if (route.admin && !unreadable) expectStatus(res, 404, what);
          // The undamaged body of each route gets its sample's answer (a success, or for a token no
          // link carried, 400); a route limited per account may have reached its limit (429).
          if (
            spec.kind === 'nearly' &&
            spec.damages.length === 0 &&
            !route.admin &&
            (signedIn || route.access !== 'session')
          ) {
            expectStatus(res, route.limitedPerAccount && res.status === 429 ? 429 : sampleStatus(route), what);
          }
          if (res.status < 300 && (path === '/chats' || path === '/global_chat')) {
            const author = path === '/chats' ? res.body.chat.sender_id : res.body.message.user_id;
            if (author !== owner.id) fail(`${what}: posted as user ${author}, not the caller ${owner.id}`);
          }
          if (res.status === 200 && path === '/change_password')
            changer.password = (JSON.parse(body!) as { new_password: string }).new_password;
        },
      ),
      { numRuns: 500 },
    );

    // The shared session survived everything thrown at it (nothing it was sent could end it).
    await send('get', '/session_status').set('Cookie', shared.cookie).expect(200);
  });
});
