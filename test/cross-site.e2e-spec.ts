import request from 'supertest';
import { GlobalChat } from '../src/chat/global-chat.entity';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import type { OpenApiDocument } from './utils/openapi-check';
import { createTestApp, login, signup, type LoggedIn, type TestApp, type TestUser } from './utils/test-app';

/** The server as the browser addresses it: its own origin is http://api.example.com. */
const HOST = 'api.example.com';
const OWN = 'http://api.example.com';
const TRUSTED = 'https://app.example.com';
const SIBLING = 'https://www.example.com';
const EVIL = 'https://evil.example';

/** What a browser (or a non-browser client) sends about where a request comes from. */
const HEADERS = {
  'no headers (curl)': {},
  'same-origin': { 'Sec-Fetch-Site': 'same-origin', Origin: OWN },
  'none (address bar, bookmark)': { 'Sec-Fetch-Site': 'none' },
  'same-site': { 'Sec-Fetch-Site': 'same-site', Origin: SIBLING },
  'cross-site': { 'Sec-Fetch-Site': 'cross-site', Origin: EVIL },
  'cross-site navigation (no Origin)': { 'Sec-Fetch-Site': 'cross-site' },
  'own Origin only (older browser)': { Origin: OWN },
  'foreign Origin only (older browser)': { Origin: EVIL },
  'Origin: null': { Origin: 'null' },
  'Origin: null, cross-site': { 'Sec-Fetch-Site': 'cross-site', Origin: 'null' },
  'trusted Origin, cross-site': { 'Sec-Fetch-Site': 'cross-site', Origin: TRUSTED },
  'trusted Origin, same-site': { 'Sec-Fetch-Site': 'same-site', Origin: TRUSTED },
  'trusted Origin only': { Origin: TRUSTED },
} satisfies Record<string, Record<string, string>>;
type HeaderSet = keyof typeof HEADERS;

interface Fixture {
  user: TestUser;
  current: LoggedIn;
  other: LoggedIn;
}

/** A request to make, and how to tell afterwards whether it changed anything. */
interface Call {
  method: 'get' | 'head' | 'options' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  body?: Record<string, unknown>;
  /** Send the current session's cookie. */
  signedIn: boolean;
  changed?: () => Promise<boolean>;
}

let seq = 0;
const ROUTES = {
  'POST /signup': (t: TestApp): Call => {
    const email = `cross-site-${++seq}@example.com`;
    return {
      method: 'post',
      path: '/signup',
      body: { name: 'Cross', phone: '5551234', email, password: 'password123' },
      signedIn: false,
      changed: async () => (await t.dataSource.getRepository(User).countBy({ email })) > 0,
    };
  },
  'POST /login': (t: TestApp, f: Fixture): Call => ({
    method: 'post',
    path: '/login',
    body: { email: f.user.email, password: f.user.password },
    signedIn: false,
    changed: async () => (await t.dataSource.getRepository(Session).countBy({ userId: f.user.id })) > 2,
  }),
  'POST /logout': (t: TestApp, f: Fixture): Call => ({
    method: 'post',
    path: '/logout',
    signedIn: true,
    changed: () => ended(t, f.current),
  }),
  'GET /logout': (t: TestApp, f: Fixture): Call => ({
    method: 'get',
    path: '/logout',
    signedIn: true,
    changed: () => ended(t, f.current),
  }),
  'GET /logout/': (t: TestApp, f: Fixture): Call => ({
    method: 'get',
    path: '/logout/',
    signedIn: true,
    changed: () => ended(t, f.current),
  }),
  'GET /LOGOUT': (t: TestApp, f: Fixture): Call => ({
    method: 'get',
    path: '/LOGOUT',
    signedIn: true,
    changed: () => ended(t, f.current),
  }),
  // HEAD is safe: it answers like GET but never ends the session (its own no-op route).
  'HEAD /logout': (): Call => ({ method: 'head', path: '/logout', signedIn: true }),
  'POST /global_chat': (t: TestApp): Call => {
    const message = `cross-site message ${++seq}`;
    return {
      method: 'post',
      path: '/global_chat',
      body: { message },
      signedIn: true,
      changed: async () => (await t.dataSource.getRepository(GlobalChat).countBy({ message })) > 0,
    };
  },
  'POST /global_chat signed out': (): Call => ({
    method: 'post',
    path: '/global_chat',
    body: { message: 'hi' },
    signedIn: false,
  }),
  'DELETE /active_sessions': (t: TestApp, f: Fixture): Call => ({
    method: 'delete',
    path: '/active_sessions',
    signedIn: true,
    changed: () => ended(t, f.other),
  }),
  'DELETE /active_sessions/:id': (t: TestApp, f: Fixture): Call => ({
    method: 'delete',
    path: `/active_sessions/${f.other.body.session.id}`,
    signedIn: true,
    changed: () => ended(t, f.other),
  }),
  'GET /active_sessions': (): Call => ({ method: 'get', path: '/active_sessions', signedIn: true }),
  'HEAD /active_sessions': (): Call => ({ method: 'head', path: '/active_sessions', signedIn: true }),
  'GET /global_chat': (): Call => ({ method: 'get', path: '/global_chat', signedIn: true }),
  'OPTIONS /global_chat': (): Call => ({ method: 'options', path: '/global_chat', signedIn: true }),
  'PUT /global_chat': (): Call => ({ method: 'put', path: '/global_chat', body: { message: 'hi' }, signedIn: true }),
  'PATCH /active_sessions': (): Call => ({ method: 'patch', path: '/active_sessions', body: {}, signedIn: true }),
  'POST /no_such_route': (): Call => ({ method: 'post', path: '/no_such_route', body: {}, signedIn: true }),
};
type Route = keyof typeof ROUTES;

async function ended(t: TestApp, session: LoggedIn): Promise<boolean> {
  return !(await t.dataSource.getRepository(Session).findOneByOrFail({ id: session.body.session.id })).isActive;
}

/**
 * The contract's cross-site rule, case by case: [route, what the request says about its origin,
 * expected status]. A 403 must have changed nothing; a success on a state-changing route must have
 * done its work (so the row proves the request was not refused for another reason).
 */
const CASES: Array<[Route, HeaderSet, number]> = [
  // Public, state-changing: signup and login are guarded too (login CSRF, forced sign-ups).
  ['POST /signup', 'no headers (curl)', 201],
  ['POST /signup', 'same-origin', 201],
  ['POST /signup', 'none (address bar, bookmark)', 201],
  ['POST /signup', 'own Origin only (older browser)', 201],
  ['POST /signup', 'same-site', 403],
  ['POST /signup', 'cross-site', 403],
  ['POST /signup', 'foreign Origin only (older browser)', 403],
  ['POST /signup', 'Origin: null', 403],
  ['POST /signup', 'trusted Origin, cross-site', 201],
  ['POST /signup', 'trusted Origin only', 201],
  ['POST /login', 'no headers (curl)', 200],
  ['POST /login', 'same-origin', 200],
  ['POST /login', 'same-site', 403],
  ['POST /login', 'cross-site', 403],
  ['POST /login', 'foreign Origin only (older browser)', 403],
  ['POST /login', 'Origin: null', 403],
  ['POST /login', 'trusted Origin, cross-site', 200],
  ['POST /logout', 'no headers (curl)', 200],
  ['POST /logout', 'same-origin', 200],
  ['POST /logout', 'same-site', 403],
  ['POST /logout', 'cross-site', 403],
  ['POST /logout', 'Origin: null, cross-site', 403],
  ['POST /logout', 'foreign Origin only (older browser)', 403],
  ['POST /logout', 'trusted Origin, same-site', 200],
  // GET /logout: the one safe-method route that is checked, and only against cross-site.
  ['GET /logout', 'cross-site navigation (no Origin)', 403],
  ['GET /logout', 'cross-site', 403],
  ['GET /logout/', 'cross-site navigation (no Origin)', 403],
  // The check hangs on the route the router matched (its config), so it follows the router's rules.
  ['GET /LOGOUT', 'cross-site navigation (no Origin)', 403],
  ['GET /LOGOUT', 'same-origin', 200],
  ['HEAD /logout', 'cross-site navigation (no Origin)', 403],
  ['GET /logout', 'same-origin', 200],
  ['GET /logout', 'none (address bar, bookmark)', 200],
  ['GET /logout', 'same-site', 200],
  ['GET /logout', 'no headers (curl)', 200],
  ['GET /logout', 'foreign Origin only (older browser)', 200],
  ['GET /logout', 'trusted Origin, cross-site', 200],
  ['HEAD /logout', 'same-origin', 200],
  // Protected, state-changing.
  ['POST /global_chat', 'no headers (curl)', 201],
  ['POST /global_chat', 'same-origin', 201],
  ['POST /global_chat', 'none (address bar, bookmark)', 201],
  ['POST /global_chat', 'own Origin only (older browser)', 201],
  ['POST /global_chat', 'same-site', 403],
  ['POST /global_chat', 'cross-site', 403],
  ['POST /global_chat', 'foreign Origin only (older browser)', 403],
  ['POST /global_chat', 'Origin: null', 403],
  ['POST /global_chat', 'trusted Origin, cross-site', 201],
  ['POST /global_chat', 'trusted Origin, same-site', 201],
  ['POST /global_chat', 'trusted Origin only', 201],
  ['POST /global_chat signed out', 'cross-site', 403],
  ['POST /global_chat signed out', 'same-origin', 401],
  ['DELETE /active_sessions', 'no headers (curl)', 200],
  ['DELETE /active_sessions', 'same-origin', 200],
  ['DELETE /active_sessions', 'same-site', 403],
  ['DELETE /active_sessions', 'cross-site', 403],
  ['DELETE /active_sessions', 'foreign Origin only (older browser)', 403],
  ['DELETE /active_sessions', 'Origin: null', 403],
  ['DELETE /active_sessions', 'trusted Origin, cross-site', 200],
  ['DELETE /active_sessions/:id', 'no headers (curl)', 204],
  ['DELETE /active_sessions/:id', 'same-origin', 204],
  ['DELETE /active_sessions/:id', 'own Origin only (older browser)', 204],
  ['DELETE /active_sessions/:id', 'same-site', 403],
  ['DELETE /active_sessions/:id', 'cross-site', 403],
  ['DELETE /active_sessions/:id', 'foreign Origin only (older browser)', 403],
  ['DELETE /active_sessions/:id', 'trusted Origin, cross-site', 204],
  // Methods without a route are refused just the same (the guard runs before routing).
  ['PUT /global_chat', 'cross-site', 403],
  ['PUT /global_chat', 'same-origin', 404],
  ['PATCH /active_sessions', 'same-site', 403],
  ['PATCH /active_sessions', 'no headers (curl)', 404],
  ['POST /no_such_route', 'cross-site', 403],
  ['POST /no_such_route', 'same-origin', 404],
  // Safe methods are never refused: a cross-site page may read nothing anyway (no CORS for it).
  ['GET /active_sessions', 'cross-site', 200],
  ['GET /active_sessions', 'foreign Origin only (older browser)', 200],
  ['GET /active_sessions', 'Origin: null', 200],
  ['HEAD /active_sessions', 'cross-site', 200],
  ['GET /global_chat', 'same-site', 200],
  ['GET /global_chat', 'trusted Origin, cross-site', 200],
  ['OPTIONS /global_chat', 'cross-site', 404],
  ['OPTIONS /global_chat', 'trusted Origin, cross-site', 204],
];

describe('Cross-site requests (ALLOWED_ORIGINS=https://app.example.com)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The table signs up and logs in far more often than any client would in a minute.
    t = await createTestApp({ ALLOWED_ORIGINS: TRUSTED, AUTH_RATE_LIMIT: '100000' });
  });
  afterAll(() => t.close());

  async function fixture(): Promise<Fixture> {
    const user = await signup(t.http);
    const other = await login(t.http, user, 'other device');
    const current = await login(t.http, user, 'this device');
    return { user, current, other };
  }

  function send(call: Call, f: Fixture, headers: Record<string, string>) {
    let req = request(t.http)[call.method](call.path).set('Host', HOST).set(headers);
    if (call.signedIn) req = req.set('Cookie', f.current.cookie);
    return call.body ? req.send(call.body) : req;
  }

  it.each(CASES)('%s, %s → %i', async (route, headerSet, status) => {
    const f = await fixture();
    const call = ROUTES[route](t, f);
    const headers: Record<string, string> = HEADERS[headerSet];
    const res = await send(call, f, headers);

    expect(res.status).toBe(status);
    if (status === 403) {
      if (call.method !== 'head') {
        expect(res.body).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          message: expect.stringMatching(/^Cross-site request refused: /),
        });
      }
      if (call.changed) expect(await call.changed()).toBe(false);
      // The caller's session is untouched.
      await request(t.http).get('/session_status').set('Cookie', f.current.cookie).expect(200);
    } else if (status < 300 && call.changed) {
      expect(await call.changed()).toBe(true);
    }

    // CORS for exactly the trusted origin, and Vary: Origin on every answer.
    if (headers.Origin === TRUSTED) {
      expect(res.headers['access-control-allow-origin']).toBe(TRUSTED);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
    } else {
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
  });

  describe('GET /logout from a cross-site navigation', () => {
    it('is refused and ends nothing; the same link followed on the site itself logs out', async () => {
      const { current } = await fixture();
      const refused = await request(t.http)
        .get('/logout')
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Cookie', current.cookie)
        .expect(403);
      expect(refused.headers['set-cookie']).toBeUndefined();
      expect(refused.headers['clear-site-data']).toBeUndefined();
      const status = await request(t.http).get('/session_status').set('Cookie', current.cookie).expect(200);
      expect(status.body.session.id).toBe(current.body.session.id);
      expect(await ended(t, current)).toBe(false);

      const res = await request(t.http)
        .get('/logout')
        .set('Sec-Fetch-Site', 'same-origin')
        .set('Cookie', current.cookie)
        .expect(200);
      expect(res.body).toEqual({ message: 'Logged out' });
      expect(await ended(t, current)).toBe(true);
      const after = await request(t.http).get('/session_status').set('Cookie', current.cookie).expect(401);
      expect(after.body.reason).toBe('logged_out');
    });

    it('says that its answer depends on Sec-Fetch-Site', async () => {
      const res = await request(t.http).get('/logout').set('Sec-Fetch-Site', 'same-origin').expect(200);
      expect(res.headers.vary).toMatch(/\bSec-Fetch-Site\b/);
    });
  });

  it('refuses before reading the body: an oversized or malformed body still gets 403, not 413 or 400', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(200 * 1024) });
    await request(t.http)
      .post('/signup')
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Content-Type', 'application/json')
      .send(big)
      .expect(403);
    await request(t.http)
      .post('/signup')
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Content-Type', 'application/json')
      .send('{"name":')
      .expect(403);
    await request(t.http)
      .post('/signup')
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Content-Type', 'text/plain')
      .send('a=b')
      .expect(403);
    // Without the cross-site marker the same bodies reach the parsers.
    await request(t.http).post('/signup').set('Content-Type', 'application/json').send(big).expect(413);
  });

  it('refuses a cross-site HTML form post to /login (login CSRF) and sets no cookie', async () => {
    const { user } = await fixture();
    const res = await request(t.http)
      .post('/login')
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Origin', EVIL)
      .type('form')
      .send({ email: user.email, password: user.password })
      .expect(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  describe('CORS', () => {
    it('answers a preflight from the trusted origin with credentials, the methods and the headers', async () => {
      const res = await request(t.http)
        .options('/global_chat')
        .set('Origin', TRUSTED)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type, authorization')
        .expect(204);
      expect(res.headers).toMatchObject({
        'access-control-allow-origin': TRUSTED,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET,POST,DELETE,OPTIONS',
        'access-control-allow-headers': 'Content-Type,Authorization',
      });
      expect(res.headers.vary).toMatch(/\bOrigin\b/);
    });

    it.each([
      EVIL,
      SIBLING,
      'null',
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://evil.app.example.com',
    ])('gives no CORS header at all to %s, preflight or not', async (origin) => {
      const preflight = await request(t.http)
        .options('/global_chat')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST');
      const simple = await request(t.http).get('/health').set('Origin', origin).expect(200);
      for (const res of [preflight, simple]) {
        expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
        expect(res.headers.vary).toMatch(/\bOrigin\b/);
      }
    });

    it('lets the trusted frontend use its session cookie, and read Retry-After', async () => {
      const { current } = await fixture();
      const res = await request(t.http)
        .post('/global_chat')
        .set('Origin', TRUSTED)
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Cookie', current.cookie)
        .send({ message: 'from the frontend' })
        .expect(201);
      expect(res.headers['access-control-allow-origin']).toBe(TRUSTED);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']).toBe('Retry-After');
    });

    it('never answers with a wildcard', async () => {
      for (const origin of [TRUSTED, EVIL, '*']) {
        const res = await request(t.http).get('/health').set('Origin', origin);
        expect(res.headers['access-control-allow-origin']).not.toBe('*');
      }
    });
  });

  it('documents the 403 on every state-changing route in the OpenAPI document', async () => {
    const doc: OpenApiDocument = (await request(t.http).get('/docs-json').expect(200)).body;
    const stateChanging = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((method) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => [method, path] as const),
    );
    expect(stateChanging.length).toBeGreaterThanOrEqual(7);
    const undocumented = [...stateChanging, ['get', '/logout'] as const].filter(
      ([method, path]) => !doc.paths[path][method].responses['403'],
    );
    expect(undocumented).toEqual([]);
    expect((doc as unknown as { info: { description: string } }).info.description).toMatch(/ALLOWED_ORIGINS/);
  });
});

describe('Cross-site requests without ALLOWED_ORIGINS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('trusts no other origin and grants no CORS', async () => {
    const user = await signup(t.http);
    const res = await request(t.http)
      .post('/login')
      .set('Origin', TRUSTED)
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ email: user.email, password: user.password })
      .expect(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(t.http)
      .options('/login')
      .set('Origin', TRUSTED)
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("compares Origin with the server's own scheme: http unless TRUST_PROXY lets X-Forwarded-Proto say https", async () => {
    const body = { name: 'P', phone: '5551234', email: 'proxy1@example.com', password: 'password123' };
    await request(t.http)
      .post('/signup')
      .set('Host', HOST)
      .set('Origin', 'https://api.example.com')
      .set('X-Forwarded-Proto', 'https')
      .send(body)
      .expect(403);
    await request(t.http)
      .post('/signup')
      .set('Host', HOST)
      .set('Origin', OWN)
      .set('X-Forwarded-Proto', 'https')
      .send(body)
      .expect(201);
  });
});

describe('Cross-site requests behind a TLS proxy (TRUST_PROXY=true)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'true' });
  });
  afterAll(() => t.close());

  it("takes the scheme (and host) the proxy reports as the server's own origin", async () => {
    const body = (n: number) => ({
      name: 'P',
      phone: '5551234',
      email: `proxy${n}@example.com`,
      password: 'password123',
    });
    await request(t.http)
      .post('/signup')
      .set('Host', 'internal:5000')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', HOST)
      .set('Origin', 'https://api.example.com')
      .send(body(1))
      .expect(201);
    await request(t.http)
      .post('/signup')
      .set('Host', HOST)
      .set('X-Forwarded-Proto', 'https')
      .set('Origin', OWN)
      .send(body(2))
      .expect(403);
  });
});
