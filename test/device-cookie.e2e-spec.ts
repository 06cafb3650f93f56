import request from 'supertest';
import type { App } from 'supertest/types';
import { createTestApp, signup, type TestApp, type TestUser } from './utils/test-app';

/** A login from a given client address (the app trusts X-Forwarded-For from loopback), with an optional Cookie header. */
function attempt(http: App, email: string, password: string, ip: string, cookie?: string) {
  const req = request(http).post('/login').set('X-Forwarded-For', ip);
  if (cookie) void req.set('Cookie', cookie);
  return req.send({ email, password });
}

/** The device cookie's Set-Cookie line in a response, or undefined. */
function deviceLine(res: request.Response): string | undefined {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((l) => /^(__Host-)?device=/.test(l));
}

/** What a browser would send back: `device=<value>` from the response's Set-Cookie. */
function deviceCookie(res: request.Response): string {
  const line = deviceLine(res);
  if (!line) throw new Error(`no device cookie in ${JSON.stringify(res.headers['set-cookie'])}`);
  return line.split(';')[0];
}

let netCounter = 0;
/** A /24 of its own per call, so each test's per-address counts start empty. */
const freshNet = () => `10.${Math.floor(netCounter / 250) + 1}.${netCounter++ % 250}`;

/** Fills the per-address window of `ip` (20 failures, unknown emails). */
async function lockAddress(http: App, ip: string): Promise<void> {
  for (let i = 0; i < 20; i++) await attempt(http, `nobody${i}-${ip}@example.com`, 'wrong password', ip).expect(401);
}

describe('Known-device cookies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback', LOGIN_LIMIT_ACCOUNT: '30' });
  });
  afterAll(() => t.close());

  it('is set by a successful login: HttpOnly, SameSite=Lax, Path=/, one year, never on a failure', async () => {
    const user = await signup(t.http);
    const failed = await attempt(t.http, user.email, 'wrong password', `${freshNet()}.1`).expect(401);
    expect(deviceLine(failed)).toBeUndefined();
    const res = await attempt(t.http, user.email, user.password, `${freshNet()}.1`).expect(200);
    const [pair, ...attributes] = deviceLine(res)!.split(/;\s*/);
    // One entry: a 128-bit nonce and a 256-bit MAC, naming no account.
    expect(pair).toMatch(/^device=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(decodeURIComponent(pair)).not.toContain(user.email.split('@')[0]);
    expect(attributes).toEqual(expect.arrayContaining(['Max-Age=31536000', 'Path=/', 'HttpOnly', 'SameSite=Lax']));
    expect(attributes.map((a) => a.split('=')[0].toLowerCase())).not.toContain('domain');
    expect(attributes).not.toContain('Secure');
    // The session cookie still comes first (clients read set-cookie[0]).
    expect(res.headers['set-cookie'][0]).toMatch(/^session_token=/);
  });

  it('exempts its logins to that account from the per-address lockout, and survives logout', async () => {
    const user = await signup(t.http);
    const ip = `${freshNet()}.1`;
    const first = await attempt(t.http, user.email, user.password, ip).expect(200);
    const device = deviceCookie(first);
    const session = /^session_token=[^;]*/.exec(first.headers['set-cookie'][0])![0];
    await request(t.http).post('/logout').set('Cookie', `${session}; ${device}`).expect(200);

    await lockAddress(t.http, ip);
    // Control: the same right password from the same address, without the cookie.
    await attempt(t.http, user.email, user.password, ip).expect(429);
    const known = await attempt(t.http, user.email, user.password, ip, device).expect(200);
    // A new nonce for the next time (OWASP: issue a new device cookie on success).
    expect(deviceCookie(known)).not.toBe(device);
  });

  it('exempts its logins from the per-account lockout a flood from many addresses causes', async () => {
    const user = await signup(t.http);
    const device = deviceCookie(await attempt(t.http, user.email, user.password, `${freshNet()}.1`).expect(200));
    const net = freshNet();
    for (let i = 0; i < 30; i++) await attempt(t.http, user.email, 'wrong password', `${net}.${i + 1}`).expect(401);
    await attempt(t.http, user.email, user.password, `${freshNet()}.1`).expect(429);
    await attempt(t.http, user.email, user.password, `${freshNet()}.1`, device).expect(200);
  });

  it("counts a known device's failures under its own limit (5), then treats it as any other client", async () => {
    const user = await signup(t.http);
    const ip = `${freshNet()}.1`;
    const device = deviceCookie(await attempt(t.http, user.email, user.password, ip).expect(200));
    await lockAddress(t.http, ip);
    // Exempt from the full address window: five guesses get 401, not 429.
    for (let i = 0; i < 5; i++) await attempt(t.http, user.email, 'wrong password', ip, device).expect(401);
    // The device's own window is full: no longer trusted, so the address lockout applies.
    const blocked = await attempt(t.http, user.email, user.password, ip, device).expect(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // From a clean address it is an ordinary client again, and a success gives a fresh device.
    const again = await attempt(t.http, user.email, user.password, `${freshNet()}.1`, device).expect(200);
    await attempt(t.http, user.email, user.password, ip, deviceCookie(again)).expect(200);
  });

  it("gives no exemption to a forged cookie, another account's cookie, or garbage", async () => {
    const [user, other] = [await signup(t.http), await signup(t.http)];
    const otherDevice = deviceCookie(await attempt(t.http, other.email, other.password, `${freshNet()}.1`).expect(200));
    const ip = `${freshNet()}.1`;
    await lockAddress(t.http, ip);
    const genuine = otherDevice.slice('device='.length);
    const [nonce, mac] = genuine.split('.');
    const forged = [
      otherDevice,
      `device=${nonce}.${'A'.repeat(43)}`,
      `device=${'B'.repeat(22)}.${mac}`,
      `device=${genuine.toUpperCase()}`,
      `device=${genuine}x`,
      `device=${`${genuine}~`.repeat(200)}`,
      'device=%E0%A4%A',
      'device=',
      `__Host-device=${genuine}`,
    ];
    for (const cookie of forged) await attempt(t.http, user.email, user.password, ip, cookie).expect(429);
    // The other account's own browser is still exempt there.
    await attempt(t.http, other.email, other.password, ip, otherDevice).expect(200);
  });

  it('remembers up to five accounts per browser, newest first, and a planted cookie cannot hide them', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < 6; i++) users.push(await signup(t.http));
    let cookie: string | undefined;
    for (const user of users)
      cookie = deviceCookie(await attempt(t.http, user.email, user.password, `${freshNet()}.1`, cookie));
    expect(cookie!.slice('device='.length).split('~')).toHaveLength(5);

    const ip = `${freshNet()}.1`;
    await lockAddress(t.http, ip);
    // The first account was dropped to make room for the sixth; the five others are known.
    await attempt(t.http, users[0].email, users[0].password, ip, cookie).expect(429);
    // A cookie planted under the same name before the real one does not hide it.
    const planted = `device=${'C'.repeat(22)}.${'D'.repeat(43)}; ${cookie}`;
    for (const user of users.slice(1)) {
      const res = await attempt(t.http, user.email, user.password, ip, planted).expect(200);
      expect(deviceCookie(res).slice('device='.length).split('~')).toHaveLength(5);
    }
  });
});

describe('Known-device cookies with SESSION_COOKIE_SECURE=true (HTTPS)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback', SESSION_COOKIE_SECURE: 'true' });
  });
  afterAll(() => t.close());

  it('names it __Host-device (Secure, Path=/, no Domain) and reads only that name', async () => {
    const user = await signup(t.http);
    const ip = `${freshNet()}.1`;
    const res = await attempt(t.http, user.email, user.password, ip).expect(200);
    const [pair, ...attributes] = deviceLine(res)!.split(/;\s*/);
    expect(pair).toMatch(/^__Host-device=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(expect.arrayContaining(['Secure', 'Path=/', 'HttpOnly', 'SameSite=Lax']));
    expect(attributes.map((a) => a.split('=')[0].toLowerCase())).not.toContain('domain');

    await lockAddress(t.http, ip);
    await attempt(t.http, user.email, user.password, ip, pair.replace(/^__Host-/, '')).expect(429);
    await attempt(t.http, user.email, user.password, ip, pair).expect(200);
  });
});

describe('Per-address limits and IPv6 /64s', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback' });
  });
  afterAll(() => t.close());

  it('counts every address of one /64 as one address, and different /64s apart', async () => {
    for (let i = 0; i < 20; i++)
      await attempt(t.http, `v6-${i}@example.com`, 'wrong password', `2001:db8:aa:1::${(i + 1).toString(16)}`).expect(
        401,
      );
    const user = await signup(t.http);
    await attempt(t.http, user.email, user.password, '2001:db8:aa:1:ffff:ffff:ffff:ffff').expect(429);
    await attempt(t.http, user.email, user.password, '2001:db8:aa:2::1').expect(200);
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    for (let i = 0; i < 20; i++)
      await attempt(t.http, `v4-${i}@example.com`, 'wrong password', i % 2 ? '192.0.2.77' : '::ffff:192.0.2.77').expect(
        401,
      );
    const user = await signup(t.http);
    await attempt(t.http, user.email, user.password, '192.0.2.77').expect(429);
    await attempt(t.http, user.email, user.password, '::ffff:192.0.2.77').expect(429);
    await attempt(t.http, user.email, user.password, '192.0.2.78').expect(200);
  });
});

describe('AUTH_RATE_LIMIT and IPv6 /64s', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback', AUTH_RATE_LIMIT: '3' });
  });
  afterAll(() => t.close());

  it('counts the requests of one /64 together', async () => {
    for (let i = 1; i <= 3; i++)
      await attempt(t.http, 'x@example.com', 'wrong password', `2001:db8:bb:1::${i}`).expect(401);
    const limited = await attempt(t.http, 'x@example.com', 'wrong password', '2001:db8:bb:1::99').expect(429);
    expect(limited.headers['retry-after']).toBeDefined();
    await attempt(t.http, 'x@example.com', 'wrong password', '2001:db8:bb:2::1').expect(401);
  });
});
