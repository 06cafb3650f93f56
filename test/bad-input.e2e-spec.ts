import request, { type Response, type Test } from 'supertest';
import { deflateSync, gzipSync } from 'node:zlib';
import { Chat } from '../src/chat/chat.entity';
import { GlobalChat } from '../src/chat/global-chat.entity';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { ERROR_LEAKS } from './utils/leaks';
import {
  route as catalogued,
  routeLabel,
  ROUTES,
  samplePath,
  signedOutStatus,
  type CatalogueRoute,
} from './utils/routes';
import { createTestApp, login, sessionSetCookie, signup, type TestApp, type TestUser } from './utils/test-app';

/**
 * Hostile input on every route of the catalogue (test/utils/routes.ts), as API.md's "Conventions"
 * and "Limits every route keeps" say: oversized, malformed and mistyped bodies, odd values, bad
 * parameters, tokens in the wrong place. Whatever comes in, the answer is a 4xx in the error shape or a success, never a
 * 5xx, never a leak, and nothing changes that should not.
 */

type Route = CatalogueRoute;

const label = routeLabel;
const SIGNED = [true, false].flatMap((signedIn) =>
  ROUTES.map((r) => [label(r), signedIn ? 'signed in' : 'signed out', r, signedIn] as const),
);
const BODY_ROUTES = ROUTES.filter((r) => r.body);
const BODYLESS_ROUTES = ROUTES.filter((r) => !r.body);

/** The fields of a route's body (they do not depend on who calls). */
function bodyFields(route: Route): string[] {
  return Object.keys(route.body!({ caller: { email: '', password: '' }, other: { id: 0 }, unique: () => '' }));
}

/** superagent would JSON-encode a Buffer sent under a JSON Content-Type; this sends the bytes as they are. */
function sendBytes(req: Test, bytes: Buffer): Test {
  return req.serialize((raw) => raw).send(bytes);
}

/** Fails showing what the server said, so a failing case explains itself. */
function expectStatus(res: Response, allowed: (status: number) => boolean, what: string): void {
  if (!allowed(res.status)) throw new Error(`expected ${what}, got ${res.status}: ${res.text?.slice(0, 500)}`);
}

/** The contract's error shape, as JSON, with nothing that should stay on the server. */
function expectErrorShape(res: Response): void {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual(
    expect.objectContaining({ statusCode: res.status, error: expect.any(String), message: expect.anything() }),
  );
  const message: unknown = res.body.message;
  expect(typeof message === 'string' || (Array.isArray(message) && message.every((m) => typeof m === 'string'))).toBe(
    true,
  );
  for (const leak of ERROR_LEAKS) expect(res.text).not.toMatch(leak);
  expect(res.headers['x-powered-by']).toBeUndefined();
}

function expectError(res: Response, ...statuses: number[]): void {
  expectStatus(res, (s) => statuses.includes(s), statuses.join(' or '));
  expectErrorShape(res);
}

/** "4xx or a success, never a 5xx"; an error still has the error shape. */
function expectNo5xx(res: Response): void {
  expectStatus(res, (s) => s < 500, 'a status below 500');
  if (res.status >= 400) expectErrorShape(res);
}

describe('Hostile input on every route', () => {
  let t: TestApp;
  let me: TestUser;
  let other: TestUser;
  let token: string;

  /** The bearer token a call should carry: a shared session, or a fresh one for a route that ends it. */
  async function bearerFor(route: Route, signedIn: boolean): Promise<string | undefined> {
    if (!signedIn) return undefined;
    return route.endsSession ? (await login(t.http, me)).token : token;
  }

  let addressCounter = 0;
  /**
   * A client address of its own for a request (through the trusted loopback proxy), so the many
   * failed logins below never add up to the per-address sign-in throttle the contract allows.
   */
  function fromNewAddress(req: Test): Test {
    addressCounter++;
    return req.set(
      'X-Forwarded-For',
      `10.${(addressCounter >> 16) & 255}.${(addressCounter >> 8) & 255}.${addressCounter & 255}`,
    );
  }

  let emailCounter = 0;
  /**
   * Who the calls are from and about: me, with a wrong password, so a body that carries the
   * caller's password (login, change_password) passes validation and is then refused, never
   * ending the shared session or changing the password.
   */
  const ctx = () => ({
    caller: { email: me.email, password: 'not the password' },
    other,
    unique: () => String(++emailCounter),
  });

  function call(route: Route, bearer?: string, query = ''): Test {
    const req = fromNewAddress(request(t.http)[route.method](samplePath(route, ctx()) + query));
    if (bearer) req.set('Authorization', `Bearer ${bearer}`);
    return req;
  }

  async function counts(): Promise<Record<string, number>> {
    return {
      users: await t.dataSource.getRepository(User).count(),
      sessions: await t.dataSource.getRepository(Session).count(),
      activeSessions: await t.dataSource.getRepository(Session).countBy({ isActive: true }),
      chats: await t.dataSource.getRepository(Chat).count(),
      globalChat: await t.dataSource.getRepository(GlobalChat).count(),
    };
  }

  /** A body the route would accept, so one hostile field at a time can be swapped in. */
  function validBody(route: Route): Record<string, unknown> {
    return route.body!(ctx());
  }

  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback', MAX_SESSIONS_PER_USER: '1000' });
    me = await signup(t.http, { name: 'Mallory' });
    other = await signup(t.http, { name: 'Trent' });
    token = (await login(t.http, me)).token;
  });
  afterAll(() => t.close());

  it('starts from a working session (the baseline every case below departs from)', async () => {
    await request(t.http).get('/session_status').set('Authorization', `Bearer ${token}`).expect(200);
  });

  describe('bodies over 100 kB', () => {
    const big = JSON.stringify({ message: 'x'.repeat(101 * 1024) });

    it.each(SIGNED)('%s (%s) → 413 and nothing changes', async (_l, _s, route, signedIn) => {
      const bearer = await bearerFor(route, signedIn);
      const before = await counts();
      const res = await call(route, bearer).set('Content-Type', 'application/json').send(big);
      expectError(res, 413);
      expect(res.body.error).toBe('Payload Too Large');
      expect(await counts()).toEqual(before);
    });

    it.each(['/signup', '/login'])('POST %s refuses an oversized form post with 413', async (path) => {
      const res = await request(t.http)
        .post(path)
        .type('form')
        .send(`email=a%40b.c&password=${'p'.repeat(101 * 1024)}`);
      expectError(res, 413);
    });

    it('counts the inflated size of a compressed body (no zip bombs)', async () => {
      const before = await counts();
      const bomb = gzipSync(JSON.stringify({ message: ' '.repeat(2 * 1024 * 1024) }));
      expect(bomb.length).toBeLessThan(100 * 1024);
      const res = await sendBytes(
        request(t.http)
          .post('/global_chat')
          .set('Authorization', `Bearer ${token}`)
          .set('Content-Type', 'application/json')
          .set('Content-Encoding', 'gzip'),
        bomb,
      );
      expectError(res, 413);
      expect(await counts()).toEqual(before);
    });

    it('is not triggered by a body just under the limit (validation answers instead)', async () => {
      const res = await request(t.http)
        .post('/global_chat')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ message: 'x'.repeat(99 * 1024) }));
      expectError(res, 400);
    });
  });

  describe('malformed JSON', () => {
    const MALFORMED = [
      '{',
      '{"message": "x",}',
      "{'message': 'x'}",
      '{"message": "x"} trailing',
      '{"message": undefined}',
      'NaN',
      '\u0000',
      '{"a":"\\x41"}',
    ];

    it.each(SIGNED)('%s (%s) → 400 for every malformed body, nothing changes', async (_l, _s, route, signedIn) => {
      const bearer = await bearerFor(route, signedIn);
      const before = await counts();
      for (const body of MALFORMED) {
        const res = await call(route, bearer).set('Content-Type', 'application/json').send(body);
        expectError(res, 400);
      }
      expect(await counts()).toEqual(before);
    });
  });

  describe('bodies that are not a JSON object', () => {
    const NOT_OBJECTS = ['[]', '[{"message":"x"}]', '"a string"', '42', 'null', 'true'];

    it.each(BODY_ROUTES.map((r) => [label(r), r] as const))(
      '%s → 400 for an array, string, number, boolean or null',
      async (_l, route) => {
        const before = await counts();
        for (const body of NOT_OBJECTS) {
          const res = await call(route, token).set('Content-Type', 'application/json').send(body);
          expectError(res, 400);
        }
        expect(await counts()).toEqual(before);
      },
    );

    it.each(BODYLESS_ROUTES.map((r) => [label(r), r] as const))(
      '%s (takes no body) → never a 5xx',
      async (_l, route) => {
        for (const body of NOT_OBJECTS)
          expectNo5xx(
            await call(route, await bearerFor(route, true))
              .set('Content-Type', 'application/json')
              .send(body),
          );
      },
    );
  });

  describe('content types', () => {
    const WRONG: Array<[string, string]> = [
      ['text/plain', 'message=hello'],
      ['application/xml', '<message>hello</message>'],
      ['application/vnd.api+json', '{"message":"hello"}'],
      [
        'multipart/form-data; boundary=XyZ',
        '--XyZ\r\nContent-Disposition: form-data; name="message"\r\n\r\nhello\r\n--XyZ--\r\n',
      ],
      ['application/json; charset=latin1', '{"message":"hello"}'],
      ['application/octet-stream', '\u0001\u0002\u0003'],
    ];

    it.each(SIGNED)('%s (%s) → 415 (or 400) for a body that is not JSON', async (_l, _s, route, signedIn) => {
      const bearer = await bearerFor(route, signedIn);
      const before = await counts();
      const types = route.form
        ? WRONG
        : [...WRONG, ['application/x-www-form-urlencoded', 'message=hello'] as [string, string]];
      for (const [type, body] of types) {
        const res = await call(route, bearer).set('Content-Type', type).send(body);
        expectError(res, 415, 400);
      }
      expect(await counts()).toEqual(before);
    });

    it.each([
      ['gzip', 'not gzip at all'],
      ['deflate', 'not deflate either'],
      ['gzip', gzipSync('{"message": "truncated').subarray(0, 12)],
    ])('a corrupt %s body → 400, never a 5xx', async (encoding, body) => {
      const before = await counts();
      const res = await sendBytes(
        request(t.http)
          .post('/global_chat')
          .set('Authorization', `Bearer ${token}`)
          .set('Content-Type', 'application/json')
          .set('Content-Encoding', encoding),
        Buffer.from(body),
      );
      expectError(res, 400);
      expect(await counts()).toEqual(before);
    });

    it('an unknown content encoding → 415 (or 400)', async () => {
      const res = await request(t.http)
        .post('/global_chat')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'zstd')
        .send('{"message":"hello"}');
      expectError(res, 415, 400);
    });

    it('a well-formed compressed JSON body is read like a plain one', async () => {
      const res = await sendBytes(
        request(t.http)
          .post('/global_chat')
          .set('Authorization', `Bearer ${token}`)
          .set('Content-Type', 'application/json')
          .set('Content-Encoding', 'deflate'),
        deflateSync('{"message":"compressed"}'),
      );
      expect(res.status).toBe(201);
      expect(res.body.message.message).toBe('compressed');
    });

    it('bytes that are not UTF-8 never cause a 5xx', async () => {
      const body = Buffer.concat([
        Buffer.from('{"message":"'),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]);
      const res = await sendBytes(
        request(t.http)
          .post('/global_chat')
          .set('Authorization', `Bearer ${token}`)
          .set('Content-Type', 'application/json'),
        body,
      );
      expectNo5xx(res);
      // Decoded as UTF-8 with replacement characters, or refused; never stored as something else than answered.
      if (res.status === 201) expect(res.body.message.message).toContain('\ufffd');
    });
  });

  describe('hostile field values', () => {
    /** JSON text too deep for a client library to build, spliced into the body where RAW stands. */
    const RAW = '\u0000raw\u0000';
    const deepObject = '{"a":'.repeat(5000) + '"x"' + '}'.repeat(5000);
    const deepArray = '['.repeat(20_000) + '1' + ']'.repeat(20_000);

    /** [case, value, the status the contract fixes (or 'any' = 4xx or success), raw JSON for RAW] */
    const VALUES: Array<[string, unknown, 400 | 'any', string?]> = [
      ['a nested object', { a: { b: 'c' } }, 400],
      ['a query operator', { $ne: null }, 400],
      ['an array', ['x'], 400],
      ['an array of objects', [{ $gt: '' }], 400],
      ['an object nested 33 deep', JSON.parse('{"a":'.repeat(32) + '"x"' + '}'.repeat(32)), 400],
      ['an object nested 5000 deep', RAW, 400, deepObject],
      ['an array nested 20 000 deep', RAW, 400, deepArray],
      ['a boolean', true, 400],
      ['null', null, 400],
      ['a 90 000 character string', 'x'.repeat(90_000), 400],
      ['a number', 12345678, 'any'],
      ['unicode (emoji, RTL, zero-width, combining)', 'Zoë 😀 \u200b\u202e שלום e\u0301', 'any'],
      // PostgreSQL cannot store U+0000; refused on both databases alike, naming the character.
      ['a NUL byte', 'a\u0000b', 400],
      ['a lone surrogate (not Unicode)', '\ud800x', 400],
      ['a reversed surrogate pair', '\udc00\ud800', 400],
      ['SQL text', "'; DROP TABLE users; --", 'any'],
      ['SQL text (UNION)', "x' UNION SELECT password_hash FROM users --", 'any'],
      ['script text', '<script>alert(1)</script>', 'any'],
      ['template text', '${7*7} {{7*7}} %s%n', 'any'],
      ['a prototype name', '__proto__', 'any'],
    ];
    const CASES = BODY_ROUTES.flatMap((route) =>
      bodyFields(route).flatMap((field) =>
        VALUES.map(([name, value, expected, raw]) => ({
          route: label(route),
          r: route,
          field,
          name,
          value,
          expected,
          raw,
        })),
      ),
    );

    it.each(CASES)('$route: $field = $name', async ({ r, field, value, expected, raw }) => {
      const before = await counts();
      let body = JSON.stringify({ ...validBody(r), [field]: value });
      if (raw) body = body.replace(JSON.stringify(RAW), raw);
      const res = await call(r, token).set('Content-Type', 'application/json').send(body);
      if (expected === 400) {
        expectError(res, 400);
        expect(JSON.stringify(res.body.message)).toMatch(
          new RegExp(`${field}|nested too deeply|not valid Unicode|NUL character`),
        );
        expect(await counts()).toEqual(before);
      } else {
        expectNo5xx(res);
      }
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    });

    // The type is checked before any length or format rule, so the message says what is wrong.
    it.each([
      ['/signup', 'email'],
      ['/signup', 'password'],
      ['/login', 'email'],
      ['/login', 'password'],
      ['/forgot_password', 'email'],
      ['/resend_verification', 'email'],
    ])('POST %s: %s given as an array or an object → 400 "%s must be a string"', async (path, field) => {
      const valid: Record<string, unknown> = {
        name: 'Ada',
        phone: '+44 20 7946 0958',
        email: 'ada@example.com',
        password: 'correct horse battery',
      };
      const body =
        path === '/signup'
          ? valid
          : path === '/login'
            ? { email: valid.email, password: valid.password }
            : { email: valid.email };
      for (const value of [['ada@example.com'], { a: 'b' }]) {
        const res = await request(t.http)
          .post(path)
          .send({ ...body, [field]: value });
        expectError(res, 400);
        expect(res.body.message).toEqual([`${field} must be a string`]);
      }
    });

    it.each(BODY_ROUTES.map((r) => [label(r), r] as const))(
      '%s: duplicate keys, prototype keys and piles of unknown keys never cause a 5xx',
      async (_l, route) => {
        const body = validBody(route);
        const json = JSON.stringify(body);
        const dupes = Object.keys(body)
          .map((k) => `${JSON.stringify(k)}:{"nested":true}`)
          .join(',');
        const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i]));
        const variants = [
          `{${dupes},${json.slice(1)}`, // every key twice, the valid value last
          `${json.slice(0, -1)},${dupes}}`, // every key twice, the bad value last
          `${json.slice(0, -1)},"__proto__":{"polluted":true}}`,
          `${json.slice(0, -1)},"constructor":{"prototype":{"polluted":true}}}`,
          JSON.stringify({ ...body, ...many }),
          JSON.stringify({ ...body, ['k'.repeat(50_000)]: 1 }),
        ];
        for (const variant of variants) {
          if (route.path === '/signup') body.email = `hostile${++emailCounter}@example.com`;
          expectNo5xx(await call(route, token).set('Content-Type', 'application/json').send(variant));
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
      },
    );

    it('refuses fields the route does not define (no mass assignment) and stores nothing', async () => {
      const before = await counts();
      expectError(
        await request(t.http)
          .post('/global_chat')
          .set('Authorization', `Bearer ${token}`)
          .send({ message: 'x', user_id: other.id }),
        400,
      );
      expectError(
        await request(t.http)
          .post('/chats')
          .set('Authorization', `Bearer ${token}`)
          .send({ receiver_id: other.id, message: 'x', sender_id: other.id }),
        400,
      );
      expectError(
        await request(t.http)
          .post('/signup')
          .send({ ...validBody(catalogued('POST /signup')), is_active: false, id: 1 }),
        400,
      );
      expect(await counts()).toEqual(before);
    });

    it('stores SQL and script text verbatim and answers it as JSON data', async () => {
      const name = "Robert'); DROP TABLE users;--";
      const user = await signup(t.http, { name });
      const bearer = `Bearer ${(await login(t.http, user)).token}`;
      const page = await request(t.http).get('/userpage').set('Authorization', bearer).expect(200);
      expect(page.body.user.name).toBe(name);
      const script = '<script>alert(document.cookie)</script>';
      const posted = await request(t.http)
        .post('/global_chat')
        .set('Authorization', bearer)
        .send({ message: script })
        .expect(201);
      expect(posted.headers['content-type']).toMatch(/^application\/json/);
      expect(posted.body.message).toMatchObject({ user_name: name, message: script });
      const listed = await request(t.http).get('/global_chat?limit=1').set('Authorization', bearer).expect(200);
      expect(listed.body.messages[0]).toMatchObject({ user_name: name, message: script });
      // Every table is still there.
      await counts();
    });
  });

  describe('route parameters and queries', () => {
    const BAD_IDS = [
      'abc',
      '1e3',
      '-1',
      '0',
      '1.5',
      '99999999999',
      '2147483648',
      '0x1F',
      'NaN',
      'Infinity',
      '%20',
      '%2e%2e',
      '1%3B%20DROP%20TABLE%20users',
      '%E0%A4%A',
      '%FF',
      '1%00',
    ];
    /** The routes with a parameter, the parameter's place in the path marked. */
    const PARAM_ROUTES = ROUTES.filter((r) => r.path.includes('/:')).map((r) => ({
      method: r.method,
      at: (id: string) => r.path.replace(/:\w+/, id),
      name: label(r),
      admin: r.admin,
    }));
    const PARAM_CASES = PARAM_ROUTES.flatMap((r) => BAD_IDS.map((id) => [r.name, id, r] as const));

    it.each(PARAM_CASES)(
      '%s with %s → 400 signed in, 401 signed out (an admin route: 404 to a non-admin either way)',
      async (_n, id, r) => {
        const before = await counts();
        // A parameter that is not even valid percent-encoding is refused by routing, before the guard.
        let undecodable = false;
        try {
          decodeURIComponent(id);
        } catch {
          undecodable = true;
        }
        const signedIn = await request(t.http)[r.method](r.at(id)).set('Authorization', `Bearer ${token}`);
        const signedOut = await request(t.http)[r.method](r.at(id));
        if (r.admin) {
          // The parameter is never looked at: the route does not exist for this caller.
          expectError(signedIn, ...(undecodable ? [400, 404] : [404]));
          expectError(signedOut, ...(undecodable ? [400, 404] : [404]));
        } else {
          expectError(signedIn, 400);
          expectError(signedOut, ...(undecodable ? [400, 401] : [401]));
        }
        expect(await counts()).toEqual(before);
      },
    );

    const BAD_QUERIES = [
      'limit=abc',
      'limit=0',
      'limit=101',
      'limit=1.5',
      'limit=-1',
      'limit=1e400',
      'limit=99999999999999999999',
      'limit=%E0%A4%A',
      'limit=1&limit=2',
      'before_id=abc',
      'before_id=-1',
      'before_id=0.5',
      'before_id=%00',
      'before_id=99999999999',
      'before_id=1%20OR%201%3D1',
    ];
    const QUERY_CASES = ROUTES.filter((r) => r.paged).flatMap((r) => BAD_QUERIES.map((q) => [r.path, q, r] as const));

    it.each(QUERY_CASES)('GET %s?%s → 400', async (_path, query, route) => {
      const res = await request(t.http)
        .get(`${samplePath(route, ctx())}?${query}`)
        .set('Authorization', `Bearer ${token}`);
      expectError(res, 400);
      expect(JSON.stringify(res.body.message)).toMatch(/limit|before_id/);
    });

    it.each(ROUTES.filter((r) => r.method === 'get' && !r.endsSession).map((r) => [label(r), r] as const))(
      '%s ignores unknown and odd query parameters (never a 5xx)',
      async (_l, route) => {
        for (const query of [
          '?x=1',
          '?a[b]=c',
          '?__proto__=1&constructor=2',
          `?q=${'z'.repeat(4000)}`,
          '?%E0%A4%A=%FF',
          '?x=%00&x=2&x=3',
        ]) {
          expectNo5xx(await call(route, token, query));
        }
      },
    );

    it('answers unknown routes and methods with 404 in the error shape', async () => {
      expectError(await request(t.http).get('/nope').set('Authorization', `Bearer ${token}`), 404);
      expectError(await request(t.http).put('/chats').set('Authorization', `Bearer ${token}`).send({}), 404, 405);
      expectError(
        await request(t.http).patch('/active_sessions').set('Authorization', `Bearer ${token}`).send({}),
        404,
        405,
      );
      expectError(await request(t.http).delete('/global_chat').set('Authorization', `Bearer ${token}`), 404, 405);
    });
  });

  describe('signed out', () => {
    it.each(ROUTES.map((r) => [label(r), r] as const))(
      '%s answers as the contract says, with any kind of bad token',
      async (_name, route) => {
        // 401 on a route that needs a session; an empty body misses every field of a public one.
        const expected = signedOutStatus(route);
        for (const auth of [
          undefined,
          'Bearer',
          'Bearer not-a-token',
          `Bearer ${'A'.repeat(43)}`,
          `Bearer ${'A'.repeat(5000)}`,
          'Basic dXNlcjpwYXNz',
          '',
          '   ',
        ]) {
          const req = call(route);
          if (auth !== undefined) req.set('Authorization', auth);
          const res = await req;
          expectStatus(res, (s) => s === expected, String(expected));
          if (expected >= 400) expectErrorShape(res);
        }
        for (const cookie of [
          'session_token=',
          'session_token=%ZZ%',
          `session_token=${'A'.repeat(43)}`,
          'session_token=a; session_token=b',
          '=;;;=',
        ]) {
          const res = await call(route).set('Cookie', cookie);
          expectStatus(res, (s) => s === expected, String(expected));
        }
      },
    );

    it('reports why on /session_status, in the error shape', async () => {
      const res = await request(t.http).get('/session_status').set('Authorization', 'Bearer garbage');
      expectError(res, 401);
      expect(res.body).toMatchObject({ authenticated: false, reason: 'invalid' });
    });
  });

  describe('secrets never reach a response', () => {
    it('keeps the password, its hash, the token and its hash out of every body and header', async () => {
      const password = `Pw-${Date.now()}-"quoted"\\secret`;
      const email = `secret-keeper-${Date.now()}@example.com`;
      const seen: string[] = [];
      const keep = (res: Response, skipSetCookie = false): Response => {
        const headers = { ...res.headers };
        if (skipSetCookie) delete headers['set-cookie'];
        seen.push(`${res.status} ${res.text ?? ''}`, JSON.stringify(headers));
        return res;
      };

      const created = keep(
        await request(t.http).post('/signup').send({ name: 'Secret Keeper', phone: '5550000', email, password }),
      );
      expect(created.status).toBe(201);
      const userId: number = created.body.user.id;
      const loggedIn = keep(await request(t.http).post('/login').send({ email, password }), true);
      expect(loggedIn.status).toBe(200);
      const secretToken = /^session_token=([^;]+)/.exec(sessionSetCookie(loggedIn.headers['set-cookie']))?.[1] ?? '';
      expect(secretToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const passwordHash = (
        await t.dataSource
          .getRepository(User)
          .createQueryBuilder('u')
          .addSelect('u.passwordHash')
          .where('u.id = :id', { id: userId })
          .getOneOrFail()
      ).passwordHash;
      const [{ token_hash: tokenHash }] = await t.dataSource.query(
        `SELECT token_hash FROM sessions WHERE id = ${Number(loggedIn.body.session.id)}`,
      );
      expect(passwordHash).toMatch(/^\$2[aby]\$/);
      expect(tokenHash).toMatch(/^[0-9a-f]{64}$/);

      const bearer = { Authorization: `Bearer ${secretToken}` };
      const cookie = { Cookie: `session_token=${secretToken}` };
      for (const auth of [bearer, cookie, {}]) {
        keep(await request(t.http).get('/session_status').set(auth));
        keep(await request(t.http).get('/active_sessions').set(auth));
        keep(await request(t.http).get('/userpage').set(auth));
        keep(await request(t.http).get('/userpage').set(auth).set('Accept', 'text/html'));
        keep(await request(t.http).post('/chats').set(auth).send({ receiver_id: other.id, message: 'psst' }));
        keep(await request(t.http).post('/chats').set(auth).send({ receiver_id: 999999, message: password }));
        keep(await request(t.http).get('/chats').set(auth));
        keep(await request(t.http).get(`/chats/${other.id}`).set(auth));
        keep(await request(t.http).get('/chats/abc').set(auth));
        keep(await request(t.http).post('/global_chat').set(auth).send({ message: 'hello room' }));
        keep(await request(t.http).post('/global_chat').set(auth).send({ message: { password } }));
        keep(await request(t.http).get('/global_chat').set(auth));
        keep(await request(t.http).get('/global_chat?limit=abc').set(auth));
        keep(await request(t.http).delete('/active_sessions').set(auth));
        keep(await request(t.http).delete('/active_sessions/999999').set(auth));
        keep(await request(t.http).delete('/active_sessions/abc').set(auth));
        keep(await request(t.http).get('/health').set(auth));
        // Errors that see the password or token in the request must not echo them.
        keep(
          await request(t.http).post('/signup').set(auth).send({ name: 'Again', phone: '5550000', email, password }),
        );
        keep(
          await request(t.http)
            .post('/signup')
            .set(auth)
            .send({ name: 'Long', phone: '5550000', email: 'x@example.com', password: password.repeat(10) }),
        );
        keep(
          await request(t.http)
            .post('/signup')
            .set(auth)
            .send({ name: password, phone: password, email: password, password }),
        );
        keep(await request(t.http).post('/login').set(auth).send({ email: password, password: secretToken }));
        keep(
          await request(t.http)
            .post('/login')
            .set(auth)
            .send({ email, password: [password] }),
        );
        keep(
          await request(t.http)
            .post('/global_chat')
            .set(auth)
            .set('Content-Type', 'application/json')
            .send(`{"message": "${secretToken}`),
        );
        keep(await request(t.http).post('/global_chat').set(auth).set('Content-Type', 'text/plain').send(password));
        keep(await request(t.http).get(`/chats/${secretToken}`).set(auth));
        keep(await request(t.http).get(`/session_status?token=${secretToken}`));
      }
      // The same secrets through a form post; a wrong password; then the end of the session.
      keep(
        await request(t.http)
          .post('/login')
          .type('form')
          .send({ email, password: `${password}x` }),
      );
      keep(
        await request(t.http)
          .post('/login')
          .set(bearer)
          .send({ email: email.toUpperCase(), password: 'wrong password' }),
      );
      keep(await request(t.http).post('/logout').set(cookie));
      keep(await request(t.http).get('/logout').set(bearer));
      keep(await request(t.http).get('/session_status').set(bearer));

      const everything = seen.join('\n');
      const secrets = {
        password,
        'password (JSON-escaped)': JSON.stringify(password).slice(1, -1),
        'password (URL-encoded)': encodeURIComponent(password),
        'bcrypt hash': passwordHash,
        'bcrypt digest': passwordHash.slice(29),
        token: secretToken,
        'token hash': tokenHash,
        'token hash (upper case)': tokenHash.toUpperCase(),
      };
      for (const [name, secret] of Object.entries(secrets)) {
        expect({ name, found: everything.includes(secret) }).toEqual({ name, found: false });
      }
      // The walk really went through signed in.
      expect(everything).toContain('"authenticated":true');
      expect(everything).toContain('hello room');
    });
  });

  describe('SQL injection at login', () => {
    const INJECTIONS = [
      "' OR 1=1 --",
      "' OR '1'='1' --",
      "admin@example.com' --",
      '" OR ""="',
      "'; DROP TABLE users; --",
      "x' UNION SELECT password_hash FROM users --",
      "%' OR email LIKE '%",
      '\\',
    ];

    it.each(INJECTIONS)('email %j → 400/401, no cookie, and nothing changes', async (email) => {
      const before = await counts();
      const users = JSON.stringify(await t.dataSource.query('SELECT * FROM users ORDER BY id'));
      for (const password of ["' OR '1'='1", 'x', me.password]) {
        for (const form of [false, true]) {
          const req = fromNewAddress(request(t.http).post('/login'));
          const res = await (form ? req.type('form') : req).send({ email, password });
          expectError(res, 400, 401);
          expect(res.headers['set-cookie']).toBeUndefined();
        }
      }
      // The victim's own address with an injected tail does not match it either.
      expectError(
        await fromNewAddress(request(t.http).post('/login')).send({
          email: `${me.email}' --`,
          password: "' OR '1'='1",
        }),
        400,
        401,
      );
      expect(await counts()).toEqual(before);
      expect(JSON.stringify(await t.dataSource.query('SELECT * FROM users ORDER BY id'))).toBe(users);
    });

    it('an injected password never logs in a real account', async () => {
      for (const password of ["' OR '1'='1", "' OR 1=1 --", '*', '%']) {
        expectError(await fromNewAddress(request(t.http).post('/login')).send({ email: me.email, password }), 401);
      }
    });
  });

  describe('a token in the URL is never accepted', () => {
    /** Every GET that answers 401 without a session. */
    const GETS = ROUTES.filter((r) => r.method === 'get' && signedOutStatus(r) === 401);
    const NAMES = ['token', 'session_token', 'access_token', 'auth', 'Authorization'];
    const CASES = GETS.flatMap((r) => NAMES.map((name) => [r.path, name, r] as const));

    it.each(CASES)('GET %s?%s=<valid token> → 401', async (_path, name, route) => {
      await request(t.http).get('/session_status').set('Authorization', `Bearer ${token}`).expect(200);
      const value = name === 'Authorization' ? `Bearer ${token}` : token;
      const res = await request(t.http).get(`${samplePath(route, ctx())}?${name}=${encodeURIComponent(value)}`);
      expectError(res, 401);
    });

    it('POST and DELETE with the token in the query string → 401 and nothing changes', async () => {
      const before = await counts();
      expectError(await request(t.http).post(`/global_chat?token=${token}`).send({ message: 'via query' }), 401);
      expectError(
        await request(t.http)
          .post(`/chats?session_token=${token}`)
          .send({ receiver_id: other.id, message: 'via query' }),
        401,
      );
      expectError(await request(t.http).delete(`/active_sessions?token=${token}`), 401);
      expect(await counts()).toEqual(before);
    });

    it('nor in the body, a path segment or another header or cookie', async () => {
      const before = await counts();
      expectError(await request(t.http).post('/global_chat').send({ message: 'via body', token }), 401);
      expectError(await request(t.http).delete(`/active_sessions/${token}`), 401);
      expectError(await request(t.http).get(`/chats/${token}`), 401);
      expectError(await request(t.http).get('/active_sessions').set('Authorization', token), 401);
      expectError(await request(t.http).get('/active_sessions').set('Authorization', `Token ${token}`), 401);
      expectError(await request(t.http).get('/active_sessions').set('X-Session-Token', token), 401);
      expectError(await request(t.http).get('/active_sessions').set('Cookie', `token=${token}`), 401);
      expect(await counts()).toEqual(before);
      // The same token in its proper places still works.
      await request(t.http).get('/active_sessions').set('Authorization', `Bearer ${token}`).expect(200);
      await request(t.http).get('/active_sessions').set('Cookie', `session_token=${token}`).expect(200);
    });
  });
});

describe('Requests Node itself rejects', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('answers headers over 16 kB with a JSON 431, not a bare status line', async () => {
    const res = await request(t.http).get('/health').set('X-Padding', 'a'.repeat(20_000));
    expect(res.status).toBe(431);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      statusCode: 431,
      error: 'Request Header Fields Too Large',
      message: 'Request headers are too large',
    });
  });
});
