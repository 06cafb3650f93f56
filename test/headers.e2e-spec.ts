import request, { type Response } from 'supertest';
import {
  createTestApp,
  login,
  sessionSetCookie,
  signup,
  type LoggedIn,
  type TestApp,
  type TestUser,
} from './utils/test-app';

/** The CSP as a map of directive → sources. */
function csp(res: Response): Record<string, string[]> {
  const header = res.headers['content-security-policy'] as string | undefined;
  expect(header).toBeDefined();
  return Object.fromEntries(
    header!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0] !== '')
      .map(([name, ...sources]) => [name, sources]),
  );
}

describe('Security headers', () => {
  let t: TestApp;
  let user: TestUser;
  let session: LoggedIn;
  beforeAll(async () => {
    t = await createTestApp();
    user = await signup(t.http);
    session = await login(t.http, user);
  });
  afterAll(() => t.close());

  describe('helmet', () => {
    it.each([
      ['a JSON success', () => request(t.http).get('/health'), 200],
      ['a JSON error', () => request(t.http).get('/active_sessions'), 401],
      ['an unknown route', () => request(t.http).get('/no/such/route'), 404],
      [
        'a body-parser error',
        () => request(t.http).post('/signup').set('Content-Type', 'application/json').send('{"name":'),
        400,
      ],
      [
        'a refused cross-site request',
        () => request(t.http).post('/signup').set('Sec-Fetch-Site', 'cross-site').send({}),
        403,
      ],
    ])('sets the API headers on %s', async (_case, make, status) => {
      const res = await make().expect(status);
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'x-dns-prefetch-control': 'off',
        'x-permitted-cross-domain-policies': 'none',
        'x-xss-protection': '0',
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
      const policy = csp(res);
      expect(policy).toMatchObject({
        'default-src': ["'self'"],
        'frame-ancestors': ["'none'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
      });
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe-(inline|eval)/);
    });

    it('sends no HSTS and no upgrade-insecure-requests when the cookie is not Secure (plain-HTTP development)', async () => {
      const res = await request(t.http).get('/health').expect(200);
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(csp(res)['upgrade-insecure-requests']).toBeUndefined();
    });

    it('lets the OpenAPI page use its inline styles, but still no inline script', async () => {
      const page = await request(t.http).get('/docs').expect(200);
      const policy = csp(page);
      expect(policy['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
      expect(policy['script-src']).toEqual(["'self'"]);
      expect(policy['frame-ancestors']).toEqual(["'none'"]);
      // Every script of the page is a file from this server, so script-src 'self' is enough.
      const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, content] of scripts) {
        expect(attributes).toMatch(/\bsrc="\.\/docs\/[^"]+\.js"/);
        expect(content.trim()).toBe('');
      }
      expect(page.text).not.toMatch(/\son[a-z]+=/i);
      await request(t.http)
        .get('/docs/swagger-ui-init.js')
        .expect(200)
        .expect('Content-Type', /javascript/);
      // The relaxation is for the page only.
      expect(csp(await request(t.http).get('/docs-json').expect(200))['style-src']).toEqual(["'self'"]);
    });
  });

  describe('Cache-Control: no-store on every JSON response', () => {
    it.each<[string, () => request.Test, number]>([
      ['GET /health', () => request(t.http).get('/health'), 200],
      [
        'GET /session_status signed in',
        () => request(t.http).get('/session_status').set('Cookie', session.cookie),
        200,
      ],
      ['GET /session_status signed out', () => request(t.http).get('/session_status'), 401],
      [
        'GET /active_sessions signed in',
        () => request(t.http).get('/active_sessions').set('Cookie', session.cookie),
        200,
      ],
      ['GET /active_sessions signed out', () => request(t.http).get('/active_sessions'), 401],
      ['GET /userpage signed in', () => request(t.http).get('/userpage').set('Cookie', session.cookie), 200],
      [
        'GET /userpage signed out (browser, redirected)',
        () => request(t.http).get('/userpage').set('Accept', 'text/html'),
        302,
      ],
      [
        'GET /global_chat with a bad query',
        () => request(t.http).get('/global_chat?limit=abc').set('Cookie', session.cookie),
        400,
      ],
      ['GET unknown route', () => request(t.http).get('/no/such/route'), 404],
      [
        'DELETE /active_sessions/abc',
        () => request(t.http).delete('/active_sessions/abc').set('Cookie', session.cookie),
        400,
      ],
      [
        'DELETE /active_sessions/999999',
        () => request(t.http).delete('/active_sessions/999999').set('Cookie', session.cookie),
        404,
      ],
      [
        'POST /signup malformed JSON',
        () => request(t.http).post('/signup').set('Content-Type', 'application/json').send('{"name":'),
        400,
      ],
      ['POST /signup invalid fields', () => request(t.http).post('/signup').send({}), 400],
      [
        'POST /signup over 100 kB',
        () =>
          request(t.http)
            .post('/signup')
            .send({ name: 'x'.repeat(200 * 1024) }),
        413,
      ],
      [
        'POST /signup text/plain',
        () => request(t.http).post('/signup').set('Content-Type', 'text/plain').send('hello'),
        415,
      ],
      [
        'POST /signup taken email',
        () =>
          request(t.http)
            .post('/signup')
            .send({ name: 'A', phone: '5551234', email: user.email, password: 'password123' }),
        409,
      ],
      [
        'POST /login wrong password',
        () => request(t.http).post('/login').send({ email: user.email, password: 'wrong password' }),
        401,
      ],
      [
        'POST /signup cross-site',
        () => request(t.http).post('/signup').set('Sec-Fetch-Site', 'cross-site').send({}),
        403,
      ],
      ['OPTIONS preflight', () => request(t.http).options('/login'), 404],
      ['GET /docs-json', () => request(t.http).get('/docs-json'), 200],
    ])('%s (%i)', async (_case, make, status) => {
      const res = await make().expect(status);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('on a successful login and logout too', async () => {
      const res = await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const cookie = /^session_token=[^;]*/.exec(sessionSetCookie(res.headers['set-cookie']))![0];
      const out = await request(t.http).post('/logout').set('Cookie', cookie).expect(200);
      expect(out.headers['cache-control']).toBe('no-store');
    });
  });

  describe('Vary', () => {
    it.each<[string, () => request.Test, number]>([
      ['signed-out browser, redirected', () => request(t.http).get('/userpage').set('Accept', 'text/html'), 302],
      ['signed-out API client', () => request(t.http).get('/userpage').set('Accept', 'application/json'), 401],
      ['signed-in API client', () => request(t.http).get('/userpage').set('Cookie', session.cookie), 200],
      ['a trailing slash', () => request(t.http).get('/userpage/'), 401],
    ])('GET /userpage varies on Accept and Origin: %s', async (_case, make, status) => {
      const res = await make().expect(status);
      const vary = String(res.headers.vary)
        .split(/\s*,\s*/)
        .map((v) => v.toLowerCase());
      expect(vary).toEqual(expect.arrayContaining(['accept', 'origin']));
      expect(new Set(vary).size).toBe(vary.length);
    });

    it('other JSON routes vary on Origin only', async () => {
      const res = await request(t.http).get('/active_sessions').set('Cookie', session.cookie).expect(200);
      expect(res.headers.vary).toBe('Origin');
    });
  });

  describe('Clearing cookies at logout', () => {
    it.each<[string, (s: LoggedIn) => request.Test, number]>([
      ['GET /logout', (s) => request(t.http).get('/logout').set('Cookie', s.cookie), 200],
      ['POST /logout', (s) => request(t.http).post('/logout').set('Cookie', s.cookie), 200],
      ['POST /logout without a session', () => request(t.http).post('/logout'), 200],
      [
        'DELETE /active_sessions/:id of the current session',
        (s) => request(t.http).delete(`/active_sessions/${s.body.session.id}`).set('Cookie', s.cookie),
        204,
      ],
    ])('%s clears the session cookie under both names and keeps the device cookie', async (_case, make, status) => {
      const s = await login(t.http, user);
      const res = await make(s).expect(status);
      // Clear-Site-Data: "cookies" would drop the known-device cookie too (src/sessions/session-cookie.ts).
      expect(res.headers['clear-site-data']).toBeUndefined();
      const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      expect(sessionSetCookie(lines)).toMatch(/^session_token=;.*Expires=Thu, 01 Jan 1970/);
      expect(lines.find((l) => l.startsWith('__Host-session_token='))).toMatch(
        /^__Host-session_token=;.*Expires=Thu, 01 Jan 1970.*Secure/,
      );
      expect(lines.filter((l) => /^(__Host-)?device=/.test(l))).toEqual([]);
    });

    it.each<[string, (s: LoggedIn, other: LoggedIn) => request.Test, number]>([
      ['POST /login', () => request(t.http).post('/login').send({ email: user.email, password: user.password }), 200],
      [
        'DELETE /active_sessions/:id of another session',
        (s, other) => request(t.http).delete(`/active_sessions/${other.body.session.id}`).set('Cookie', s.cookie),
        204,
      ],
      [
        'DELETE /active_sessions (all others)',
        (s) => request(t.http).delete('/active_sessions').set('Cookie', s.cookie),
        200,
      ],
    ])('%s sends none (the caller stays signed in)', async (_case, make, status) => {
      const s = await login(t.http, user);
      const other = await login(t.http, user, 'other');
      const res = await make(s, other).expect(status);
      expect(res.headers['clear-site-data']).toBeUndefined();
    });
  });
});

describe('Security headers with SESSION_COOKIE_SECURE=true (HTTPS)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_COOKIE_SECURE: 'true' });
  });
  afterAll(() => t.close());

  it('names the cookie __Host-session_token: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain', async () => {
    const user = await signup(t.http);
    const res = await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(200);
    const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    // The session cookie and the known-device cookie (whose attributes test/device-cookie.e2e-spec.ts checks).
    expect(lines.map((l) => l.split('=')[0]).sort()).toEqual(['__Host-device', '__Host-session_token']);
    const [pair, ...attributes] = sessionSetCookie(lines).split(/;\s*/);
    expect(pair).toMatch(/^__Host-session_token=[A-Za-z0-9_-]{43}$/);
    const names = attributes.map((a) => a.split('=')[0].toLowerCase());
    expect(names).toEqual(expect.arrayContaining(['path', 'secure', 'httponly', 'samesite']));
    expect(names).not.toContain('domain');
    expect(attributes).toEqual(expect.arrayContaining(['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax']));
  });

  it('reads the session from __Host-session_token only, and clears that cookie at logout', async () => {
    const user = await signup(t.http);
    const res = await request(t.http).post('/login').send({ email: user.email, password: user.password }).expect(200);
    const token = /^__Host-session_token=([^;]+)/.exec(sessionSetCookie(res.headers['set-cookie']))![1];

    await request(t.http).get('/session_status').set('Cookie', `__Host-session_token=${token}`).expect(200);
    const plain = await request(t.http).get('/session_status').set('Cookie', `session_token=${token}`).expect(401);
    expect(plain.body.reason).toBe('missing');

    const out = await request(t.http).post('/logout').set('Cookie', `__Host-session_token=${token}`).expect(200);
    expect(out.headers['clear-site-data']).toBeUndefined();
    const cleared = sessionSetCookie(out.headers['set-cookie']);
    expect(cleared).toMatch(/^__Host-session_token=;/);
    expect(cleared).toMatch(/; Path=\/;.*Secure/);
    const after = await request(t.http)
      .get('/session_status')
      .set('Cookie', `__Host-session_token=${token}`)
      .expect(401);
    expect(after.body.reason).toBe('logged_out');
  });

  it('adds HSTS (one year, subdomains) and upgrade-insecure-requests', async () => {
    const res = await request(t.http).get('/health').expect(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(csp(res)['upgrade-insecure-requests']).toEqual([]);
  });
});
