import fc from 'fast-check';
import { Session } from '../../src/sessions/session.entity';
import { headerChar, headerString } from '../utils/arbitraries';
import { usePropertyApp, expectSafe, expectStatus, fail, show } from '../utils/property-checks';
import { ROUTES, samplePath, signedOutStatus, type RouteContext } from '../utils/routes';
import { login, signup } from '../utils/test-app';

/**
 * Property 3: any cookie, Authorization or other header on the routes that need a session gets a
 * 401, or a 2xx for exactly a real valid token and only its owner's data.
 *
 * What every property spec shares is said once, in test/utils/property-checks.ts.
 */
describe('Property tests (fast-check): any cookie, Authorization or header on the session routes', () => {
  const { t, send, uniq } = usePropertyApp();
  const sessions = () => t.dataSource.getRepository(Session);

  /** Header names generated freely must leave out what changes transport or the cross-site verdict. */
  const EXCLUDED_HEADERS = new Set([
    'origin',
    'sec-fetch-site',
    'x-forwarded-for',
    'content-length',
    'transfer-encoding',
    'content-encoding',
    'host',
    'connection',
    'cookie',
    'authorization',
    'expect',
    'upgrade',
    'te',
    'trailer',
    'keep-alive',
    'proxy-connection',
    'http2-settings',
  ]);
  const headerName = fc
    .oneof(
      fc.constantFrom(
        'accept',
        'accept-language',
        'accept-encoding',
        'user-agent',
        'referer',
        'x-request-id',
        'x-correlation-id',
        'x-forwarded-proto',
        'x-forwarded-host',
        'x-real-ip',
        'forwarded',
        'x-csrf-token',
        'x-http-method-override',
        'if-none-match',
        'if-modified-since',
        'range',
        'pragma',
        'cache-control',
        'content-type',
        'sec-fetch-mode',
        'sec-fetch-dest',
        'x-session-token',
        'session_token',
      ),
      fc.stringMatching(/^[a-z][a-z0-9_-]{0,24}$/),
    )
    .filter((name) => !EXCLUDED_HEADERS.has(name));
  const extraHeaders = fc.dictionary(headerName, fc.oneof(headerString(60), headerString(3000, 2000)), { maxKeys: 4 });

  /**
   * Every route of the catalogue that answers 401 without a session and leaves the session alone,
   * called with its sample path and body: `ok` is what a real valid token gets.
   */
  const PROTECTED = ROUTES.filter((r) => signedOutStatus(r) === 401 && !r.endsSession).map((r) => ({
    method: r.method,
    path: r.path,
    ok: r.sampleAnswer ?? r.success,
    route: r,
  }));

  it("3. any cookie, Authorization or other header → 401, or a 2xx for exactly a real valid token and only its owner's data", async () => {
    const agentP = `prop3-P-${uniq()}`;
    const agentQ = `prop3-Q-${uniq()}`;
    const p = await signup(t.http, { email: `prop3-p-${uniq()}@example.com` });
    const q = await signup(t.http, { email: `prop3-q-${uniq()}@example.com` });
    const ended = await login(t.http, p, agentP);
    await send('post', '/logout').set('Cookie', ended.cookie).expect(200);
    const revoked = await login(t.http, p, agentP);
    const pSession = await login(t.http, p, agentP);
    await send('delete', `/active_sessions/${revoked.body.session.id}`).set('Cookie', pSession.cookie).expect(204);
    const qSession = await login(t.http, q, agentQ);
    await send('post', '/chats')
      .set('Cookie', pSession.cookie)
      .send({ receiver_id: q.id, message: 'p to q' })
      .expect(201);

    const owners = [
      { user: p, session: pSession, agent: agentP, other: q },
      { user: q, session: qSession, agent: agentQ, other: p },
    ];
    const sessionIdsOf = async (userId: number) =>
      new Set((await sessions().find({ where: { userId } })).map((s) => s.id));
    const ownSessionIds = new Map<number, Set<number>>([
      [p.id, await sessionIdsOf(p.id)],
      [q.id, await sessionIdsOf(q.id)],
    ]);
    const real = [pSession.token, qSession.token];
    const dead = { [ended.token]: 'logged_out', [revoked.token]: 'revoked' } as Record<string, string>;

    const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
    const mutated = fc
      .tuple(
        fc.constantFrom(...real, ...Object.keys(dead)),
        fc.nat({ max: 42 }),
        fc.oneof(fc.constantFrom(...'ABCxyz019-_'.split('')), headerChar),
      )
      .map(([token, i, ch]) => token.slice(0, i) + ch + token.slice(i + 1))
      .filter((token) => !real.includes(token));
    const candidate = fc.oneof(
      { arbitrary: fc.constantFrom(...real), weight: 6 },
      { arbitrary: fc.constantFrom(...Object.keys(dead)), weight: 2 },
      { arbitrary: base64url, weight: 3 },
      { arbitrary: mutated, weight: 4 },
      { arbitrary: fc.base64String({ maxLength: 64 }), weight: 1 },
      { arbitrary: headerString(80), weight: 2 },
      {
        arbitrary: fc
          .tuple(fc.constantFrom(...real), fc.constantFrom('', ' ', 'x', '=', '==', ';', '%20', '\t', '.', ','))
          .map(([tok, s]) => tok + s),
        weight: 1,
      },
      {
        arbitrary: fc
          .tuple(fc.constantFrom(' ', 'x', '"', 'j:', 's:', '%', 'Bearer '), fc.constantFrom(...real))
          .map(([s, tok]) => s + tok),
        weight: 1,
      },
      { arbitrary: fc.constantFrom(...real).map((tok) => `j:${JSON.stringify(tok)}`), weight: 1 },
      { arbitrary: fc.constantFrom(...real).map((tok) => tok.slice(0, 42)), weight: 1 },
      {
        arbitrary: fc.constantFrom(
          '',
          ' ',
          'null',
          'undefined',
          '[object Object]',
          'j:{}',
          'j:[1]',
          'j:null',
          'j:{"a":',
          's:x.y',
          '%',
          '%ZZ',
          '%00',
          '"',
        ),
        weight: 1,
      },
    );

    type Carrier =
      | { kind: 'none' }
      | { kind: 'cookie'; name: string; value: string; rest: string | null }
      | { kind: 'bearer'; scheme: string; sep: string; value: string; tail: string }
      | { kind: 'rawCookie'; value: string }
      | { kind: 'rawAuth'; value: string }
      | { kind: 'both'; cookie: string; auth: string };
    const carrier: fc.Arbitrary<Carrier> = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({
        kind: fc.constant('cookie' as const),
        name: fc.oneof(
          { arbitrary: fc.constant('session_token'), weight: 6 },
          {
            arbitrary: fc.constantFrom(
              ' session_token',
              '__Host-session_token',
              'Session_Token',
              'SESSION_TOKEN',
              'session_token2',
              'session-token',
              'sid',
              'token',
            ),
            weight: 2,
          },
        ),
        value: candidate,
        rest: fc.option(headerString(40)),
      }),
      fc.record({
        kind: fc.constant('bearer' as const),
        scheme: fc.oneof(
          { arbitrary: fc.constant('Bearer'), weight: 6 },
          {
            arbitrary: fc.constantFrom('bearer', 'BEARER', 'Basic', 'Token', 'Bearer:', 'Bearer,', 'Digest', ''),
            weight: 2,
          },
        ),
        sep: fc.oneof(
          { arbitrary: fc.constant(' '), weight: 6 },
          { arbitrary: fc.constantFrom('', '  ', '\t', ' \t '), weight: 1 },
        ),
        value: candidate,
        tail: fc.oneof({ arbitrary: fc.constant(''), weight: 6 }, { arbitrary: headerString(10), weight: 1 }),
      }),
      fc.record({ kind: fc.constant('rawCookie' as const), value: headerString(120) }),
      fc.record({ kind: fc.constant('rawAuth' as const), value: headerString(120) }),
      fc.record({ kind: fc.constant('both' as const), cookie: candidate, auth: candidate }),
    );

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PROTECTED), carrier, extraHeaders, async (route, c, extras) => {
        let cookie: string | undefined;
        let auth: string | undefined;
        switch (c.kind) {
          case 'cookie':
            cookie = `${c.name}=${c.value}${c.rest === null ? '' : `; ${c.rest}`}`;
            break;
          case 'bearer':
            auth = `${c.scheme}${c.sep}${c.value}${c.tail}`;
            break;
          case 'rawCookie':
            cookie = c.value;
            break;
          case 'rawAuth':
            auth = c.value;
            break;
          case 'both':
            cookie = `session_token=${c.cookie}`;
            auth = `Bearer ${c.auth}`;
            break;
          case 'none':
            break;
        }
        const sample: RouteContext = { caller: p, other: q, unique: uniq };
        let req = send(route.method, samplePath(route.route, sample));
        const sent = route.route.body?.(sample);
        if (sent) req = req.set('Content-Type', 'application/json');
        for (const [name, value] of Object.entries(extras)) req = req.set(name, value);
        if (cookie !== undefined) req = req.set('Cookie', cookie);
        if (auth !== undefined) req = req.set('Authorization', auth);
        const res = await (sent ? req.send(JSON.stringify(sent)) : req);

        const what = `${route.method.toUpperCase()} ${route.path} Cookie ${JSON.stringify(cookie)} Authorization ${JSON.stringify(auth)} extras ${JSON.stringify(extras).slice(0, 300)}`;
        expectSafe(res, what, { redirect: route.path === '/userpage' });

        // The owners of every real valid token the request carries anywhere.
        const carried = owners.filter(
          (o) => (cookie ?? '').includes(o.session.token) || (auth ?? '').includes(o.session.token),
        );
        const plainHeaders = !Object.keys(extras).some((n) => n === 'content-type' || n === 'accept');
        const canonical =
          (c.kind === 'cookie' && c.name === 'session_token' && c.rest === null && real.includes(c.value)) ||
          (c.kind === 'bearer' && c.scheme === 'Bearer' && c.sep === ' ' && c.tail === '' && real.includes(c.value));

        const authenticated = res.status !== 401 && res.status !== 302;
        if (carried.length === 0) {
          // No real valid token anywhere in the request: refused, whatever else it carries.
          if (plainHeaders) expectStatus(res, 401, what);
          else if (authenticated && res.status !== 400 && res.status !== 415)
            fail(`${what}: not refused without a valid token: ${show(res)}`);
          if (res.status === 401 && route.path === '/session_status' && c.kind !== 'both') {
            const value =
              c.kind === 'cookie' && c.name === 'session_token' && c.rest === null
                ? c.value
                : c.kind === 'bearer' && c.scheme === 'Bearer' && c.sep === ' ' && c.tail === ''
                  ? c.value
                  : undefined;
            if (value !== undefined && value in dead && res.body.reason !== dead[value])
              fail(`${what}: reason ${res.body.reason}, expected ${dead[value]}`);
            if (c.kind === 'none' && res.body.reason !== 'missing')
              fail(`${what}: reason ${res.body.reason}, expected missing`);
          }
          return;
        }
        if (canonical && plainHeaders) expectStatus(res, route.ok, what);
        if (!authenticated || !/^application\/json\b/.test(String(res.headers['content-type'])) || res.status >= 400)
          return;

        // Authenticated: everything in the answer belongs to one of the users whose token was carried.
        const ownerIds = carried.map((o) => o.user.id);
        const body = res.body as Record<string, unknown> & {
          user?: { id: number };
          session?: { id: number };
          sessions?: Array<{ id: number }>;
          conversations?: Array<{ last_message: { sender_id: number; receiver_id: number } }>;
          attempts?: Array<{ user_agent: string | null }>;
          message?: { user_id: number };
        };
        // A number: WebAuthn creation options carry a `user` too, whose `id` is the (opaque) user handle.
        const who =
          (typeof body.user?.id === 'number' ? body.user.id : undefined) ??
          (route.path === '/global_chat' && route.method === 'post' ? body.message?.user_id : undefined);
        if (who !== undefined && !ownerIds.includes(who))
          fail(`${what}: answered as user ${who}, carried tokens of ${ownerIds.join(', ')}: ${show(res)}`);
        const ownerId = who ?? (carried.length === 1 ? carried[0].user.id : undefined);
        if (ownerId !== undefined) {
          const own = ownSessionIds.get(ownerId)!;
          if (body.session && !own.has(body.session.id))
            fail(`${what}: session ${body.session.id} is not user ${ownerId}'s`);
          for (const s of body.sessions ?? [])
            if (!own.has(s.id)) fail(`${what}: listed session ${s.id} of another user`);
          for (const conv of body.conversations ?? []) {
            if (conv.last_message.sender_id !== ownerId && conv.last_message.receiver_id !== ownerId)
              fail(`${what}: another user's conversation`);
          }
          const owner = owners.find((o) => o.user.id === ownerId)!;
          for (const a of body.attempts ?? [])
            if (a.user_agent !== owner.agent)
              fail(`${what}: a sign-in attempt of another account: ${JSON.stringify(a)}`);
          if (carried.length === 1 && res.text.includes(owner.other.email))
            fail(`${what}: the other user's email in ${show(res)}`);
        }
      }),
      { numRuns: 500 },
    );

    // The real sessions are untouched by all of it.
    for (const o of owners) await send('get', '/session_status').set('Cookie', o.session.cookie).expect(200);
  });
});
