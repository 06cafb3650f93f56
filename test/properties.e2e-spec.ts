import fc from 'fast-check';
import request, { type Response, type Test } from 'supertest';
import { Chat } from '../src/chat/chat.entity';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { LEAKS } from './utils/leaks';
import { createTestApp, login, signup, type LoggedIn, type TestApp, type TestUser } from './utils/test-app';

/**
 * Property tests (fast-check) through the real app: validation and the session guard answer any
 * body, any cookie, any header, any path or query with a 2xx or a 4xx in the contract's error
 * shape (API.md "Limits every route keeps"), never a 5xx, never another user's data; and the
 * signup rules of API.md agree with an independent model of them.
 *
 * No Origin / Sec-Fetch-Site headers are ever sent: requests without them are never refused by
 * the cross-site guard, which has its own table-driven spec.
 */

// ---------------------------------------------------------------------------------------------
// Checking answers
// ---------------------------------------------------------------------------------------------

const MAX_ID = 2147483647;

function fail(message: string): never {
  throw new Error(message);
}

function show(res: Response): string {
  const text = typeof res.text === 'string' ? res.text : '';
  return `${res.status} ${text.length > 600 ? `${text.slice(0, 600)}…` : text}`;
}

/**
 * The answer is a 2xx or a 4xx (or a 302 where the caller says a redirect is allowed); a 4xx is
 * JSON with statusCode (equal to the status), error and message, and no stack trace.
 */
function expectSafe(res: Response, what: string, opts: { redirect?: boolean } = {}): void {
  const s = res.status;
  if (s >= 500) fail(`${what}: server error ${show(res)}`);
  const ok = (s >= 200 && s < 300) || (s >= 400 && s < 500) || (opts.redirect === true && s === 302);
  if (!ok) fail(`${what}: unexpected status ${show(res)}`);
  if (s === 302) {
    if (res.headers.location !== '/login_page') fail(`${what}: redirect to ${res.headers.location}`);
    return;
  }
  if (s >= 400) {
    if (!/^application\/json\b/.test(String(res.headers['content-type'])))
      fail(`${what}: error is not JSON: ${res.headers['content-type']} ${show(res)}`);
    const body = res.body as Record<string, unknown>;
    if (body.statusCode !== s) fail(`${what}: statusCode ${String(body.statusCode)} in a ${s} answer: ${show(res)}`);
    if (typeof body.error !== 'string' || body.error === '') fail(`${what}: no "error" in ${show(res)}`);
    const message = body.message;
    const messageOk =
      typeof message === 'string' || (Array.isArray(message) && message.every((m) => typeof m === 'string'));
    if (!messageOk) fail(`${what}: no "message" in ${show(res)}`);
    if ('stack' in body) fail(`${what}: a stack in ${show(res)}`);
    for (const leak of LEAKS) if (leak.test(res.text)) fail(`${what}: ${leak} in ${show(res)}`);
  }
  // No answer ever carries a bcrypt hash; no success names a password, token or hash field.
  if (/\$2[aby]\$\d\d\$/.test(res.text ?? '')) fail(`${what}: a bcrypt hash in ${show(res)}`);
  if (s < 300) {
    const key = secretKey(res.body);
    if (key !== undefined) fail(`${what}: a "${key}" field in ${show(res)}`);
  }
}

/** The first key anywhere in a JSON value that names a password, a token or a hash. */
function secretKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (/password|hash|^token$/i.test(key)) return key;
    const inner = secretKey(child);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function expectStatus(res: Response, expected: number | number[], what: string): void {
  const list = Array.isArray(expected) ? expected : [expected];
  if (!list.includes(res.status)) fail(`${what}: expected ${list.join(' or ')}, got ${show(res)}`);
}

/** Percent-encodes UTF-8 bytes (a lone surrogate goes as U+FFFD, as any UTF-8 encoder sends it). */
function percentEncode(text: string, everything = false): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += !everything && /[A-Za-z0-9_~-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function codePoints(text: string): number {
  return Array.from(text).length;
}

const LONE_SURROGATE = /\p{Cs}/u;

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Any Unicode scalar value. */
const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));
const trickyChar = fc.constantFrom(
  ' ',
  '\t',
  '\n',
  '\r',
  '\u00a0',
  '\u200b',
  '\ufeff',
  '\u2028',
  '\u3000',
  '\0',
  '%',
  '"',
  '\\',
  '<',
  '>',
  "'",
  '&',
  ';',
  '=',
  '+',
  '/',
  '?',
  '#',
  '.',
  '@',
  '𝄞',
  '😀',
  'é',
  'e\u0301',
  'İ',
  'ß',
  'ﬁ',
  'Ω',
  '١',
  '１',
  '\u202e',
);
/** One character for text fields: ASCII mostly, any code point, and tricky ones. */
const unicodeUnit = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 6 },
  { arbitrary: anyCodePoint, weight: 3 },
  { arbitrary: trickyChar, weight: 3 },
);
/** Text, now and then with a lone surrogate (not Unicode: JSON can carry it, UTF-8 cannot) somewhere in it. */
const unicodeString = (maxLength: number, minLength = 0): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.string({ unit: unicodeUnit, minLength, maxLength }), weight: 8 },
    {
      arbitrary: fc
        .tuple(
          fc.string({
            unit: unicodeUnit,
            minLength: Math.max(0, minLength - 1),
            maxLength: Math.max(0, maxLength - 1),
          }),
          loneSurrogate,
          fc.nat(),
        )
        .map(([text, lone, at]) => text.slice(0, at % (text.length + 1)) + lone + text.slice(at % (text.length + 1))),
      weight: 1,
    },
  );

/** Characters Node lets through in a header value (tab, printable ASCII, Latin-1). */
const headerChar = fc
  .oneof(
    { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 10 },
    { arbitrary: fc.constant(0x09), weight: 1 },
    { arbitrary: fc.integer({ min: 0x80, max: 0xff }), weight: 1 },
  )
  .map((c) => String.fromCharCode(c));
const headerString = (maxLength: number, minLength = 0) => fc.string({ unit: headerChar, minLength, maxLength });

/** JSON text for a value, including things JSON.stringify would never write. */
const jsonValueText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 4 },
  { arbitrary: unicodeString(40).map((s) => JSON.stringify(s)), weight: 4 },
  { arbitrary: fc.stringMatching(/^-?[1-9][0-9]{15,400}(\.[0-9]{1,50})?([eE][+-]?[0-9]{1,4})?$/), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      'null',
      'true',
      'false',
      '[]',
      '{}',
      '""',
      '" "',
      '0',
      '-0',
      '1',
      '2',
      '3',
      '-1',
      '1.5',
      '1e400',
      '-1e400',
      '1e-400',
      '2147483647',
      '2147483648',
      '9007199254740993',
      '"1"',
      '"2"',
      '"abc"',
      '[1]',
      '["1"]',
      '{"a":1}',
      '"\\u0000"',
      '"\\ud800"',
      '"\\udc00\\ud800"',
      '"correct horse battery"',
      '"user@example.com"',
      '"+1 555 0100"',
      '"Ada"',
    ),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`), weight: 1 },
  { arbitrary: fc.integer({ min: 1000, max: 120_000 }).map((n) => JSON.stringify('x'.repeat(n))), weight: 1 },
);

const FIELD_NAMES = [
  'name',
  'phone',
  'email',
  'password',
  'receiver_id',
  'message',
  'current_password',
  'new_password',
];
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'id',
  'is_active',
  'user_id',
  'created_at',
  'password_hash',
  '',
];
const bodyKey = fc.oneof(
  { arbitrary: fc.constantFrom(...FIELD_NAMES), weight: 8 },
  { arbitrary: fc.constantFrom(...HOSTILE_KEYS), weight: 2 },
  { arbitrary: unicodeString(12), weight: 1 },
);

/** A JSON object written by hand: real field names, arbitrary values, duplicate keys allowed. */
const recordBodyText = fc
  .array(fc.tuple(bodyKey, jsonValueText), { maxLength: 8 })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

/** Any JSON body text (undefined: no body at all). */
const anyJsonBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: recordBodyText, weight: 6 },
  { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 2 },
  { arbitrary: fc.object({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 1 },
  {
    arbitrary: fc
      .anything({
        maxDepth: 3,
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withSparseArray: true,
        withNullPrototype: true,
        withDate: true,
      })
      .map((v) => JSON.stringify(v) as string | undefined),
    weight: 1,
  },
  { arbitrary: jsonValueText, weight: 1 },
);

// ---------------------------------------------------------------------------------------------
// The app
// ---------------------------------------------------------------------------------------------

describe("Property tests (fast-check): any input gives a 2xx or 4xx, never a 5xx or another user's data", () => {
  let t: TestApp;
  const users = () => t.dataSource.getRepository(User);
  const sessions = () => t.dataSource.getRepository(Session);

  beforeAll(async () => {
    t = await createTestApp({
      TRUST_PROXY: 'loopback',
      MAX_SESSIONS_PER_USER: '1000',
      LOGIN_LIMIT_ACCOUNT_ADDRESS: '1000000',
      LOGIN_LIMIT_ADDRESS: '1000000',
      LOGIN_LIMIT_ACCOUNT: '1000000',
    });
    // Listen once, so supertest does not open and close a listener for every request.
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  let unique = 0;
  const uniq = () => `${++unique}-${Date.now().toString(36)}`;

  function send(method: 'get' | 'post' | 'delete', path: string): Test {
    return request(t.http)[method](path);
  }

  // -------------------------------------------------------------------------------------------
  // 1. Any JSON body
  // -------------------------------------------------------------------------------------------

  const BODY_ROUTES = ['/signup', '/login', '/chats', '/global_chat', '/change_password', '/logout'] as const;

  it('1. any JSON body on every body-taking route, signed in or out → 2xx/4xx in the error shape, never a 5xx', async () => {
    const owner = await signup(t.http, { email: `prop1-${uniq()}@example.com` });
    const shared = await login(t.http, owner);
    // /change_password may succeed; it runs as a user of its own whose password the test follows.
    const changer = await signup(t.http, { email: `prop1-changer-${uniq()}@example.com` });

    /** A valid body for the route, which the test then damages a little (or not at all). */
    const validBody = (path: (typeof BODY_ROUTES)[number]): Record<string, string> => {
      switch (path) {
        case '/signup':
          return {
            name: 'Prop One',
            phone: '+1 555 0100',
            email: `prop1-new-${uniq()}@example.com`,
            password: 'correct horse battery',
          };
        case '/login':
          return { email: owner.email, password: owner.password };
        case '/chats':
          return { receiver_id: String(owner.id), message: 'hello' };
        case '/global_chat':
          return { message: 'hello everyone' };
        case '/change_password':
          return { current_password: changer.password, new_password: 'another good password' };
        case '/logout':
          return {};
      }
    };
    type Damage =
      | { kind: 'set'; key: string; value: string }
      | { kind: 'drop'; key: string }
      | { kind: 'add'; key: string; value: string };
    const damage: fc.Arbitrary<Damage> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...FIELD_NAMES), value: jsonValueText }),
      fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...FIELD_NAMES) }),
      fc.record({ kind: fc.constant('add' as const), key: bodyKey, value: jsonValueText }),
    );
    /** JSON text of the valid body after the damage (values of the valid body are JSON text too). */
    const nearlyValid = (path: (typeof BODY_ROUTES)[number], damages: Damage[]): string => {
      const entries: Array<[string, string]> = Object.entries(validBody(path)).map(([k, v]) => [
        k,
        k === 'receiver_id' ? v : JSON.stringify(v),
      ]);
      for (const d of damages) {
        const i = entries.findIndex(([k]) => k === d.key);
        if (d.kind === 'drop' && i >= 0) entries.splice(i, 1);
        else if (d.kind === 'set' && i >= 0) entries[i] = [d.key, d.value];
        // A key already there is written again: a duplicate key, which JSON.parse resolves to the last.
        else if (d.kind !== 'drop') entries.push([d.key, d.value]);
      }
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
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
        async (path, signedIn, carrier, spec) => {
          const body = spec.kind === 'any' ? spec.body : nearlyValid(path, spec.damages);
          // Routes that can end the session they carry get a session of their own.
          let session: LoggedIn | undefined;
          if (signedIn)
            session =
              path === '/change_password'
                ? await login(t.http, changer)
                : path === '/logout' || path === '/login'
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
          expectSafe(res, what);
          // Logging out always works, with or without a session, unless the body could not be read
          // (JSON that is not an object or array is refused as malformed, like broken JSON).
          const unreadable =
            res.status === 413 || (res.status === 400 && res.body.message === 'Request body is not valid JSON');
          if (path === '/logout' && !unreadable) expectStatus(res, 200, what);
          // Signed out, a protected route never does anything but refuse: 401, unless the body could
          // not even be read (the parsers run before the guard: 413, or 400 for text that is not JSON).
          if (!signedIn && ['/chats', '/global_chat', '/change_password'].includes(path) && !unreadable)
            expectStatus(res, 401, what);
          // The undamaged body of each route succeeds.
          if (
            spec.kind === 'nearly' &&
            spec.damages.length === 0 &&
            (signedIn || ['/signup', '/login', '/logout'].includes(path))
          ) {
            expectStatus(
              res,
              {
                '/signup': 201,
                '/login': 200,
                '/chats': 201,
                '/global_chat': 201,
                '/change_password': 200,
                '/logout': 200,
              }[path],
              what,
            );
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

  // -------------------------------------------------------------------------------------------
  // 2. Any raw body with any Content-Type
  // -------------------------------------------------------------------------------------------

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
  const RAW_ROUTES: Array<['post' | 'get' | 'delete', string]> = [
    ...BODY_ROUTES.map((p) => ['post', p] as ['post', string]),
    ['get', '/session_status'],
    ['get', '/active_sessions'],
    ['delete', '/active_sessions/999999'],
  ];

  it('2. any raw body under any Content-Type → 2xx/4xx, never a 5xx', async () => {
    const owner = await signup(t.http, { email: `prop2-${uniq()}@example.com` });
    const shared = await login(t.http, owner);

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
        async ([method, path], signedIn, type, body) => {
          const session = signedIn
            ? path === '/logout' || path === '/login'
              ? await login(t.http, owner)
              : shared
            : undefined;
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

  // -------------------------------------------------------------------------------------------
  // 3. Any cookie, Authorization or other header on protected routes
  // -------------------------------------------------------------------------------------------

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

  const PROTECTED: Array<{ method: 'get' | 'post' | 'delete'; path: string; ok: number }> = [
    { method: 'get', path: '/session_status', ok: 200 },
    { method: 'get', path: '/active_sessions', ok: 200 },
    { method: 'get', path: '/userpage', ok: 200 },
    { method: 'get', path: '/chats', ok: 200 },
    { method: 'get', path: '/login_activity', ok: 200 },
    { method: 'get', path: '/global_chat', ok: 200 },
    { method: 'post', path: '/global_chat', ok: 201 },
    { method: 'delete', path: '/active_sessions/999999', ok: 404 },
  ];

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
        let req = send(route.method, route.path);
        if (route.method === 'post') req = req.set('Content-Type', 'application/json');
        for (const [name, value] of Object.entries(extras)) req = req.set(name, value);
        if (cookie !== undefined) req = req.set('Cookie', cookie);
        if (auth !== undefined) req = req.set('Authorization', auth);
        const res = await (route.method === 'post'
          ? req.send(JSON.stringify({ message: 'hello from property 3' }))
          : req);

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
        const who =
          body.user?.id ??
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

  // -------------------------------------------------------------------------------------------
  // 4. Isolation between users
  // -------------------------------------------------------------------------------------------

  it("4. any sequence of A's requests never shows B's data and never ends B's sessions", async () => {
    const tag = uniq();
    const a = await signup(t.http, { email: `prop4-a-${tag}@example.com`, name: 'Alice Four' });
    const b = await signup(t.http, {
      email: `prop4-b-secret-${tag}@example.com`,
      name: 'Bob Four',
      phone: '+99 (555) 424-2424',
    });
    const c = await signup(t.http, {
      email: `prop4-c-secret-${tag}@example.com`,
      name: 'Carol Four',
      phone: '+98 (555) 313-1313',
    });
    const bAgent = `B-secret-agent-${tag}`;

    const aSessions: LoggedIn[] = [];
    for (let i = 0; i < 4; i++) aSessions.push(await login(t.http, a, `A-device-${i}`));
    const bSessions: LoggedIn[] = [];
    for (let i = 0; i < 3; i++) bSessions.push(await login(t.http, b, bAgent));
    const cSession = await login(t.http, c, `C-agent-${tag}`);
    const aCurrent = aSessions[aSessions.length - 1];
    // A failed sign-in on B's account, from B's agent: it must not show in A's login activity.
    await send('post', '/login')
      .set('User-Agent', bAgent)
      .send({ email: b.email, password: 'wrong password!' })
      .expect(401);

    const say = (from: LoggedIn, to: TestUser, message: string) =>
      send('post', '/chats').set('Cookie', from.cookie).send({ receiver_id: to.id, message }).expect(201);
    await say(aCurrent, b, 'a to b');
    await say(bSessions[0], a, 'b to a');
    await say(bSessions[0], c, `bc-secret-1-${tag}`);
    await say(cSession, b, `bc-secret-2-${tag}`);
    await say(aCurrent, c, 'a to c');
    await say(cSession, a, 'c to a');
    await say(bSessions[1], c, `bc-secret-3-${tag}`);
    await send('post', '/global_chat').set('Cookie', aCurrent.cookie).send({ message: 'global from A' }).expect(201);
    await send('post', '/global_chat')
      .set('Cookie', bSessions[2].cookie)
      .send({ message: 'global from B' })
      .expect(201);

    const bIds = bSessions.map((s) => s.body.session.id);
    const cIds = [cSession.body.session.id];
    const aActive = new Set(aSessions.slice(0, -1).map((s) => s.body.session.id));
    const aAll = new Set(aSessions.map((s) => s.body.session.id));
    const secrets = [
      b.email,
      c.email,
      b.phone,
      c.phone,
      bAgent,
      `bc-secret-1-${tag}`,
      `bc-secret-2-${tag}`,
      `bc-secret-3-${tag}`,
    ];

    // Every session of every other user, as it is before A does anything.
    const snapshot = async () =>
      (await sessions().createQueryBuilder('s').where('s.user_id <> :a', { a: a.id }).orderBy('s.id').getMany()).map(
        (s) => [s.id, s.isActive, s.endReason],
      );
    const before = await snapshot();

    const sessionId = fc
      .oneof(
        { arbitrary: fc.constantFrom(...bIds, ...cIds), weight: 4 },
        { arbitrary: fc.constantFrom(...aActive), weight: 1 },
        { arbitrary: fc.integer({ min: -5, max: 3_000_000_000 }), weight: 2 },
        { arbitrary: fc.integer({ min: 1, max: 200 }), weight: 2 },
      )
      .filter((id) => id !== aCurrent.body.session.id);
    const userId = fc.oneof(
      fc.constantFrom(String(a.id), String(b.id), String(c.id)),
      fc.integer({ min: -5, max: 3_000_000_000 }).map(String),
      unicodeString(20, 1),
    );
    type Command =
      | { kind: 'list' | 'chats' | 'userpage' | 'status' | 'activity' | 'global' }
      | { kind: 'delete'; id: number }
      | { kind: 'chat'; id: string; query: string };
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.constantFrom<Command>(
        { kind: 'list' },
        { kind: 'chats' },
        { kind: 'userpage' },
        { kind: 'status' },
        { kind: 'activity' },
        { kind: 'global' },
      ),
      fc.record({ kind: fc.constant('delete' as const), id: sessionId }),
      fc.record({
        kind: fc.constant('chat' as const),
        id: userId,
        query: fc.constantFrom('', '?limit=1', '?limit=100', '?before_id=1', '?limit=0'),
      }),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), async (commands) => {
        for (const cmd of commands) {
          let res: Response;
          const cookie = aCurrent.cookie;
          switch (cmd.kind) {
            case 'list': {
              res = await send('get', '/active_sessions').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /active_sessions');
              const ids: number[] = res.body.sessions.map((s: { id: number }) => s.id);
              for (const id of ids)
                if (!aAll.has(id)) fail(`A's session list has session ${id}, not A's: ${show(res)}`);
              if (ids.length !== aActive.size + 1)
                fail(`A's session list has ${ids.length} sessions, expected ${aActive.size + 1}`);
              break;
            }
            case 'delete': {
              res = await send('delete', `/active_sessions/${cmd.id}`).set('Cookie', cookie);
              const expected = cmd.id < 1 || cmd.id > MAX_ID ? 400 : aActive.has(cmd.id) ? 204 : 404;
              expectStatus(res, expected, `DELETE /active_sessions/${cmd.id}`);
              // Another user's session and an unknown id get the very same answer.
              if (res.status === 404)
                expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Session not found' });
              if (res.status === 204) aActive.delete(cmd.id);
              break;
            }
            case 'chats': {
              res = await send('get', '/chats').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /chats');
              for (const conv of res.body.conversations as Array<{
                user: { id: number };
                last_message: { sender_id: number; receiver_id: number };
              }>) {
                const m = conv.last_message;
                if (m.sender_id !== a.id && m.receiver_id !== a.id)
                  fail(`GET /chats shows a conversation A is not in: ${show(res)}`);
                if (![m.sender_id, m.receiver_id].includes(conv.user.id))
                  fail(`GET /chats: partner ${conv.user.id} not in its last message`);
              }
              break;
            }
            case 'chat': {
              const path = `/chats/${percentEncode(cmd.id)}${cmd.query}`;
              res = await send('get', path).set('Cookie', cookie);
              expectSafe(res, `GET ${path}`);
              if (res.status === 200) {
                const other = Number(cmd.id);
                for (const m of res.body.messages as Array<{ sender_id: number; receiver_id: number }>) {
                  const between =
                    (m.sender_id === a.id && m.receiver_id === other) ||
                    (m.sender_id === other && m.receiver_id === a.id);
                  if (!between) fail(`GET ${path} shows a message not between A and ${other}: ${show(res)}`);
                }
              }
              break;
            }
            case 'userpage':
              res = await send('get', '/userpage').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /userpage');
              if (res.body.user.id !== a.id || res.body.user.email !== a.email)
                fail(`GET /userpage is not A's: ${show(res)}`);
              if (res.body.active_sessions !== aActive.size + 1)
                fail(`GET /userpage counts ${res.body.active_sessions} sessions, expected ${aActive.size + 1}`);
              break;
            case 'status':
              res = await send('get', '/session_status').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /session_status');
              if (res.body.user.id !== a.id || res.body.session.id !== aCurrent.body.session.id)
                fail(`GET /session_status is not A's: ${show(res)}`);
              break;
            case 'activity':
              res = await send('get', '/login_activity').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /login_activity');
              if (res.body.attempts.length !== aSessions.length)
                fail(
                  `A's login activity has ${res.body.attempts.length} attempts, expected ${aSessions.length}: ${show(res)}`,
                );
              break;
            case 'global':
              res = await send('get', '/global_chat').set('Cookie', cookie);
              expectStatus(res, 200, 'GET /global_chat');
              break;
          }
          expectSafe(res, `A's ${cmd.kind}`);
          for (const secret of secrets)
            if (res.text.includes(secret))
              fail(`A's ${JSON.stringify(cmd)} answer contains ${JSON.stringify(secret)}: ${show(res)}`);
        }
      }),
      { numRuns: 150 },
    );

    // Nothing A did changed anyone else's sessions; B's are all still active and usable.
    expect(await snapshot()).toEqual(before);
    const bRows = await sessions().findBy({ userId: b.id });
    expect(bRows).toHaveLength(bIds.length);
    for (const row of bRows) expect(row).toMatchObject({ isActive: true, endReason: null, logoutTime: null });
    for (const s of bSessions) await send('get', '/session_status').set('Cookie', s.cookie).expect(200);
    expect(await t.dataSource.getRepository(Chat).countBy({ senderId: b.id })).toBe(3);
  });

  // -------------------------------------------------------------------------------------------
  // 5. Any path parameter or query string
  // -------------------------------------------------------------------------------------------

  /** A decimal string as the contract reads an id: 'valid', 'invalid', or 'either' (leading zeros). */
  function judgeNumber(text: string, min: number, max: number): 'valid' | 'invalid' | 'either' {
    if (!/^[0-9]+$/.test(text)) return 'invalid';
    const n = Number(text);
    if (n < min || n > max) return 'invalid';
    return String(n) === text ? 'valid' : 'either';
  }

  const numericInvalid = fc.oneof(
    fc.constantFrom(
      '0',
      '00',
      '-0',
      '-1',
      '1.5',
      '1.0',
      '1e3',
      '1E2',
      '0x10',
      '0b1',
      '0o7',
      '+1',
      ' 1',
      '1 ',
      '1_000',
      '1,5',
      'Infinity',
      'NaN',
      '2147483648',
      '99999999999',
      '9007199254740993',
      '１',
      '١',
      '¹',
      '1\u0000',
      '.5',
      '5.',
      '--1',
      '1-',
      '+0',
      '%31',
    ),
    fc.integer({ min: -(2 ** 53), max: 0 }).map(String),
    fc.integer({ min: MAX_ID + 1, max: Number.MAX_SAFE_INTEGER }).map(String),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((d) => !Number.isInteger(d))
      .map(String),
    fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: -5, max: 5 })).map(([m, e]) => `${m}e${e}`),
  );
  const anySegment = fc
    .oneof(
      { arbitrary: unicodeString(60, 1), weight: 4 },
      { arbitrary: numericInvalid, weight: 4 },
      { arbitrary: fc.integer({ min: 1, max: MAX_ID }).map(String), weight: 2 },
      { arbitrary: fc.integer({ min: 1, max: 30 }).map(String), weight: 2 },
      {
        arbitrary: fc
          .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 999 }))
          .map(([z, n]) => '0'.repeat(z) + n),
        weight: 1,
      },
      {
        arbitrary: fc
          .tuple(fc.constantFrom('9', 'a', '%', 'é', '𝄞', '%25', '%2F'), fc.integer({ min: 100, max: 2000 }))
          .map(([s, n]) => s.repeat(n)),
        weight: 1,
      },
      { arbitrary: fc.stringMatching(/^(%[0-9A-Fa-f]{2}|[%A-Za-z0-9])+$/), weight: 2 },
    )
    // '.' and '..' are path steps, not values; and at most 2000 UTF-8 bytes (6 kB percent-encoded),
    // so a request line stays inside Node's 16 kB header limit (past it Node answers 431 itself).
    .filter((s) => s !== '.' && s !== '..' && Buffer.byteLength(s, 'utf8') <= 2000);

  function decodeOrUndefined(text: string): string | undefined {
    try {
      return decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }

  it('5a. any :user_id in GET /chats/:user_id and any :id in DELETE /active_sessions/:id → 2xx/4xx; numeric-looking invalid ones → 400', async () => {
    const d = await signup(t.http, { email: `prop5-d-${uniq()}@example.com` });
    const partner = await signup(t.http, { email: `prop5-e-${uniq()}@example.com` });
    let dSession = await login(t.http, d);
    await send('post', '/chats')
      .set('Cookie', dSession.cookie)
      .send({ receiver_id: partner.id, message: 'hi' })
      .expect(201);
    const maxUserId = async () =>
      (await users().createQueryBuilder('u').select('MAX(u.id)', 'max').getRawOne<{ max: number }>())!.max;

    /** Sent as written: percent signs with or without two hex digits, bytes that are not UTF-8. */
    const rawSegment = fc
      .stringMatching(/^(%[0-9A-Fa-f]{2}|%[0-9A-Fa-f]?|%[C-Fc-f][0-9A-Fa-f]%[89ABab][0-9A-Fa-f]|[A-Za-z0-9_~-])+$/)
      .filter((text) => {
        const decoded = decodeOrUndefined(text);
        return decoded !== '.' && decoded !== '..';
      });
    type Param = { kind: 'encoded'; segment: string; all: boolean } | { kind: 'raw'; text: string };
    const param: fc.Arbitrary<Param> = fc.oneof(
      {
        arbitrary: fc.record({ kind: fc.constant('encoded' as const), segment: anySegment, all: fc.boolean() }),
        weight: 4,
      },
      { arbitrary: fc.record({ kind: fc.constant('raw' as const), text: rawSegment }), weight: 1 },
    );

    await fc.assert(
      fc.asyncProperty(fc.constantFrom('chat', 'delete'), param, async (route, p) => {
        const sent = p.kind === 'raw' ? p.text : percentEncode(p.segment, p.all);
        const path = route === 'chat' ? `/chats/${sent}` : `/active_sessions/${sent}`;
        const method = route === 'chat' ? 'get' : 'delete';
        const res = await send(method, path).set('Cookie', dSession.cookie);
        const what = `${method.toUpperCase()} ${path.slice(0, 300)}`;
        expectSafe(res, what);
        if (p.kind === 'raw' && decodeOrUndefined(p.text) === undefined) {
          // Not a valid percent-encoding of UTF-8 text: refused, as a bad parameter.
          expectStatus(res, 400, what);
          return;
        }
        const segment = p.kind === 'raw' ? decodeOrUndefined(p.text)! : p.segment;
        // What the server decodes: a lone surrogate is sent (and read) as U+FFFD.
        const value = segment.replace(/\p{Cs}/gu, '\ufffd');
        const verdict = judgeNumber(value, 1, MAX_ID);
        if (verdict === 'invalid') expectStatus(res, 400, what);
        else if (verdict === 'valid') {
          const id = Number(value);
          if (route === 'chat') expectStatus(res, id <= (await maxUserId()) ? 200 : 404, what);
          else expectStatus(res, id === dSession.body.session.id ? 204 : 404, what);
        } else expectStatus(res, route === 'chat' ? [200, 400, 404] : [204, 400, 404], what);
        if (res.status === 400) expect(res.body.message).toMatch(/must be a positive integer/);
        if (route === 'chat' && res.status === 200) {
          for (const m of res.body.messages)
            if (m.sender_id !== d.id && m.receiver_id !== d.id) fail(`${what}: a message D is not in`);
        }
        // Ending D's own current session is a logout: sign in again for the next run.
        if (route === 'delete' && res.status === 204) dSession = await login(t.http, d);
      }),
      { numRuns: 400 },
    );
  });

  it('5b. any limit / before_id query on GET /global_chat and GET /chats/:user_id → 2xx/4xx; numeric-looking invalid ones → 400', async () => {
    const d = await signup(t.http, { email: `prop5b-d-${uniq()}@example.com` });
    const partner = await signup(t.http, { email: `prop5b-e-${uniq()}@example.com` });
    const dSession = await login(t.http, d);
    for (let i = 0; i < 5; i++) {
      await send('post', '/chats')
        .set('Cookie', dSession.cookie)
        .send({ receiver_id: partner.id, message: `m${i}` })
        .expect(201);
      await send('post', '/global_chat')
        .set('Cookie', dSession.cookie)
        .send({ message: `g${i}` })
        .expect(201);
    }

    const paramValue = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 3 },
      { arbitrary: fc.constant(''), weight: 1 },
      { arbitrary: anySegment, weight: 6 },
      { arbitrary: fc.integer({ min: 1, max: 100 }).map(String), weight: 3 },
      { arbitrary: fc.constantFrom('0', '101', '100', '1', '50', '-1', '1000000'), weight: 2 },
    );
    const extra = fc.array(fc.tuple(unicodeString(8, 1), unicodeString(8)), { maxLength: 3 });

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('global', 'chat'),
        paramValue,
        paramValue,
        fc.boolean(),
        fc.boolean(),
        extra,
        async (route, limit, beforeId, duplicate, encodeAll, extras) => {
          const pairs: Array<[string, string]> = [];
          if (limit !== undefined) pairs.push(['limit', limit]);
          if (beforeId !== undefined) pairs.push(['before_id', beforeId]);
          if (duplicate && limit !== undefined) pairs.push(['limit', limit]);
          for (const [k, v] of extras)
            if (!['limit', 'before_id'].includes(k.replace(/\p{Cs}/gu, '\ufffd'))) pairs.push([k, v]);
          const query = pairs
            .map(([k, v]) => `${percentEncode(k, encodeAll)}=${percentEncode(v, encodeAll)}`)
            .join('&');
          const path = `${route === 'global' ? '/global_chat' : `/chats/${partner.id}`}${query ? `?${query}` : ''}`;
          const res = await send('get', path).set('Cookie', dSession.cookie);
          const what = `GET ${path.slice(0, 400)}`;
          expectSafe(res, what);

          const judge = (v: string | undefined, max: number) =>
            v === undefined || v === '' ? 'valid' : judgeNumber(v.replace(/\p{Cs}/gu, '\ufffd'), 1, max);
          const verdicts = [judge(limit, 100), judge(beforeId, MAX_ID)];
          if (duplicate && limit !== undefined) expectStatus(res, [200, 400], what);
          else if (verdicts.includes('invalid')) expectStatus(res, 400, what);
          else if (verdicts.every((v) => v === 'valid')) expectStatus(res, 200, what);
          else expectStatus(res, [200, 400], what);

          if (res.status === 200) {
            const ids: number[] = res.body.messages.map((m: { id: number }) => m.id);
            const max = limit && judgeNumber(limit, 1, 100) !== 'invalid' ? Number(limit) : 50;
            if (ids.length > max) fail(`${what}: ${ids.length} messages, limit ${max}`);
            for (let i = 1; i < ids.length; i++)
              if (!(ids[i] < ids[i - 1])) fail(`${what}: not newest first: ${ids.join(', ')}`);
            if (beforeId && judgeNumber(beforeId, 1, MAX_ID) !== 'invalid')
              for (const id of ids) if (id >= Number(beforeId)) fail(`${what}: id ${id} not before ${beforeId}`);
            if (route === 'chat') {
              for (const m of res.body.messages) {
                const between =
                  (m.sender_id === d.id && m.receiver_id === partner.id) ||
                  (m.sender_id === partner.id && m.receiver_id === d.id);
                if (!between) fail(`${what}: a message not between D and the partner`);
              }
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  // -------------------------------------------------------------------------------------------
  // 6. Signup validation against a model of API.md
  // -------------------------------------------------------------------------------------------

  it('6. signup: 201 vs 400 agrees with a model of the API.md rules, and a 201 stores the normalized values', async () => {
    const alphabetPhone = fc.stringMatching(/^[0-9 +\-()]{0,24}$/);
    const name = fc.oneof(
      { arbitrary: fc.string({ unit: unicodeUnit, minLength: 1, maxLength: 100 }), weight: 6 },
      { arbitrary: unicodeString(110), weight: 3 },
      {
        arbitrary: fc
          .tuple(
            fc.stringMatching(/^[ \t\n\u00a0\u3000\ufeff]{0,3}$/),
            unicodeString(12, 1),
            fc.stringMatching(/^[ \t\n\u00a0\u3000]{0,3}$/),
          )
          .map(([l, s, r]) => l + s + r),
        weight: 3,
      },
      {
        arbitrary: fc
          .tuple(fc.constantFrom('a', 'é', '𝄞', '😀', 'e\u0301'), fc.integer({ min: 95, max: 105 }))
          .map(([ch, n]) => ch.repeat(n)),
        weight: 2,
      },
      { arbitrary: fc.stringMatching(/^[ \t\n\u00a0\u2028\u3000]{0,5}$/), weight: 1 },
      { arbitrary: fc.constantFrom<unknown>(undefined, null, 42, true, [], {}, ['Ada'], { first: 'Ada' }), weight: 1 },
    );
    const phone = fc.oneof(
      { arbitrary: fc.stringMatching(/^[0-9 +\-()]{7,20}$/), weight: 8 },
      { arbitrary: alphabetPhone, weight: 4 },
      {
        arbitrary: fc
          .tuple(
            fc.stringMatching(/^[ \t]{0,2}$/),
            fc.stringMatching(/^[0-9 +\-()]{5,22}$/),
            fc.stringMatching(/^[ \t]{0,2}$/),
          )
          .map(([l, s, r]) => l + s + r),
        weight: 2,
      },
      { arbitrary: unicodeString(25), weight: 2 },
      {
        arbitrary: fc
          .stringMatching(/^[0-9]{7,20}$/)
          .chain((s) =>
            fc.tuple(fc.nat({ max: s.length - 1 }), unicodeUnit).map(([i, ch]) => s.slice(0, i) + ch + s.slice(i + 1)),
          ),
        weight: 2,
      },
      { arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), weight: 2 },
      {
        arbitrary: fc.constantFrom<unknown>(undefined, null, 1.5, -1234567, -12345678901, 1e21, true, [], {}, [
          '5550100',
        ]),
        weight: 1,
      },
    );
    const password = fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme', minLength: 8, maxLength: 40 }), weight: 6 },
      { arbitrary: unicodeString(80), weight: 4 },
      {
        arbitrary: fc
          .array(fc.constantFrom('a', 'é', '€', '𝄞', ' '), { minLength: 1, maxLength: 40 })
          .map((a) => a.join('')),
        weight: 3,
      },
      { arbitrary: fc.integer({ min: 5, max: 80 }).map((n) => 'p'.repeat(n)), weight: 2 },
      { arbitrary: fc.constantFrom<unknown>(undefined, null, 12345678, true, [], {}, ['password123']), weight: 1 },
    );
    /** A good email is made unique inside the run; the generator decides its case and padding. */
    type EmailSpec = { kind: 'good'; upper: boolean[]; left: string; right: string } | { kind: 'raw'; value: unknown };
    const email: fc.Arbitrary<EmailSpec> = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('good' as const),
          upper: fc.array(fc.boolean(), { maxLength: 40 }),
          left: fc.stringMatching(/^[ \t\n]{0,2}$/),
          right: fc.stringMatching(/^[ \t\n]{0,2}$/),
        }),
        weight: 5,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('raw' as const),
          value: fc.oneof(
            unicodeString(40),
            fc.constantFrom(
              'noatsign',
              'a@b',
              '@example.com',
              'a@',
              'a@@example.com',
              'a b@example.com',
              'a@exa mple.com',
              'a@example',
              '',
              ' ',
              'a@.com',
              'user@example.com',
            ),
            fc
              .tuple(
                fc.stringMatching(/^[a-z0-9._%+-]{1,12}$/),
                fc.stringMatching(/^[a-z0-9-]{1,10}$/),
                fc.constantFrom('com', 'org', 'io', 'x'),
              )
              .map(([l, d, tld]) => `${l}@${d}.${tld}`),
            fc.constantFrom<unknown>(undefined, null, 42, true, [], {}, ['a@example.com']),
          ),
        }),
        weight: 3,
      },
    );

    /** The model: API.md's rules, written independently of the server's validators. */
    function model(fields: Record<string, unknown>): { bad: string[]; either: string[]; lone: boolean } {
      const lone = Object.values(fields).some((v) => typeof v === 'string' && LONE_SURROGATE.test(v));
      const bad: string[] = [];
      const either: string[] = [];
      const n = fields.name;
      if (!(typeof n === 'string' && codePoints(n.trim()) >= 1 && codePoints(n.trim()) <= 100)) bad.push('name');
      const ph = fields.phone;
      const phoneOk =
        (typeof ph === 'string' && /^[0-9 +\-()]{7,20}$/.test(ph)) ||
        (typeof ph === 'number' && Number.isSafeInteger(ph) && ph >= 0 && /^[0-9]{7,20}$/.test(String(ph)));
      // A negative whole number: "accepted and stored as its digits" does not say; either answer is taken.
      const phoneEither = typeof ph === 'number' && Number.isSafeInteger(ph) && ph < 0;
      if (!phoneOk && !phoneEither) bad.push('phone');
      if (phoneEither) either.push('phone');
      const pw = fields.password;
      if (!(typeof pw === 'string' && Buffer.byteLength(pw, 'utf8') >= 8 && Buffer.byteLength(pw, 'utf8') <= 72))
        bad.push('password');
      return { bad, either, lone };
    }
    /** Fails a simple check every valid address passes (a dotted domain after the last @, no spaces in it). */
    function obviouslyBadEmail(value: unknown): boolean {
      if (typeof value !== 'string') return true;
      const norm = value.trim().toLowerCase();
      const at = norm.lastIndexOf('@');
      if (at <= 0) return true;
      const domain = norm.slice(at + 1);
      return (
        domain === '' || !domain.includes('.') || /\s/.test(domain) || domain.startsWith('.') || domain.endsWith('.')
      );
    }

    await fc.assert(
      fc.asyncProperty(
        name,
        phone,
        email,
        password,
        fc.boolean(),
        async (nameValue, phoneValue, emailSpec, passwordValue, asForm) => {
          let emailValue: unknown;
          if (emailSpec.kind === 'good') {
            const plain = `prop6.${uniq()}@example.com`;
            emailValue =
              emailSpec.left +
              Array.from(plain, (ch, i) => (emailSpec.upper[i] ? ch.toUpperCase() : ch)).join('') +
              emailSpec.right;
          } else emailValue = emailSpec.value;
          const fields: Record<string, unknown> = {
            name: nameValue,
            phone: phoneValue,
            email: emailValue,
            password: passwordValue,
          };

          // A form post carries strings only (and UTF-8 cannot carry a lone surrogate: it arrives as U+FFFD).
          const formable = Object.values(fields).every((v) => typeof v === 'string');
          const form = asForm && formable;
          const sent: Record<string, unknown> = form
            ? Object.fromEntries(
                Object.entries(fields).map(([k, v]) => [k, (v as string).replace(/\p{Cs}/gu, '\ufffd')]),
              )
            : fields;

          const verdict = model(sent);
          const emailBad = obviouslyBadEmail(sent.email);
          const normEmail = typeof sent.email === 'string' ? sent.email.trim().toLowerCase() : undefined;
          const taken = normEmail !== undefined && (await users().existsBy({ email: normEmail }));

          const req = send('post', '/signup');
          const res = form
            ? await req.type('form').send(new URLSearchParams(sent as Record<string, string>).toString())
            : await req.set('Content-Type', 'application/json').send(JSON.stringify(fields));
          const what = `POST /signup ${form ? 'form' : 'JSON'} ${JSON.stringify(sent)}`;
          expectSafe(res, what);

          if (verdict.lone) {
            expectStatus(res, 400, `${what} (text that is not valid Unicode)`);
            return;
          }
          const bad = [...verdict.bad, ...(emailBad ? ['email'] : [])];
          if (bad.length > 0) {
            expectStatus(res, 400, `${what} (model: bad ${bad.join(', ')})`);
            const messages: string[] = Array.isArray(res.body.message) ? res.body.message : [res.body.message];
            for (const field of bad)
              if (!messages.some((m) => m.includes(field)))
                fail(`${what}: the 400 does not name ${field}: ${show(res)}`);
            return;
          }
          // name, phone and password are valid (or a case the contract leaves open), and the email passes the simple check.
          const open = [...verdict.either, ...(emailSpec.kind === 'good' ? [] : ['email'])];
          if (open.length === 0) expectStatus(res, taken ? 409 : 201, `${what} (model: valid)`);
          else
            expectStatus(
              res,
              taken ? [400, 409] : [201, 400],
              `${what} (model: valid unless ${open.join(' or ')} is refused)`,
            );
          if (res.status === 400) {
            const messages: string[] = Array.isArray(res.body.message) ? res.body.message : [res.body.message];
            for (const m of messages)
              if (!open.some((f) => m.includes(f)))
                fail(`${what}: refused for something other than ${open.join(' or ')}: ${show(res)}`);
          }
          if (res.status !== 201) return;

          const expected = {
            name: (sent.name as string).trim(),
            email: normEmail,
            phone: typeof sent.phone === 'number' ? String(sent.phone) : sent.phone,
          };
          const row = await users().findOneByOrFail({ id: res.body.user.id });
          const stored = { name: row.name, email: row.email, phone: row.phone };
          if (JSON.stringify(stored) !== JSON.stringify(expected))
            fail(`${what}: stored ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)}`);
          expect(res.body.user).toMatchObject({ id: row.id, ...expected, is_active: true, last_login: null });
          expect(Object.keys(res.body.user).sort()).toEqual([
            'created_at',
            'email',
            'id',
            'is_active',
            'last_login',
            'name',
            'phone',
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
