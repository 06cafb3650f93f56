import request from 'supertest';
import { createTestApp, signup, type TestApp, type TestUser } from './utils/test-app';

/**
 * Issue 17's flood: loops of wrong-password logins for unknown e-mails, each request from a new
 * address, keep the hashing queue full. bcrypt is made slow enough (cost 8, one hash at a time,
 * two waiting) that the queue really is the bottleneck, as it is with production's cost 12.
 */
const FLOOD_LOOPS = 24;
const TRIES = 15;

describe('A login flood from many addresses', () => {
  let t: TestApp;
  let url: string;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp({
      TRUST_PROXY: 'loopback',
      BCRYPT_ROUNDS: '8',
      BCRYPT_CONCURRENCY: '1',
      BCRYPT_MAX_PENDING: '2',
    });
    // One listening server for every request, rather than one per request.
    await t.app.listen(0, '127.0.0.1');
    url = await t.app.getUrl();
    user = await signup(t.http);
  });
  afterAll(() => t.close());

  const login = (email: string, password: string, ip: string, cookie?: string) => {
    const req = request(url).post('/login').set('X-Forwarded-For', ip);
    if (cookie) void req.set('Cookie', cookie);
    return req.send({ email, password });
  };

  it('leaves a known device signing in, while a browser without the device cookie is turned away', async () => {
    // The user's browser signed in before: it holds a device cookie.
    const first = await login(user.email, user.password, '192.0.2.10').expect(200);
    const deviceLine = ([] as string[]).concat(first.headers['set-cookie']).find((l) => l.startsWith('device='))!;
    let device = deviceLine.split(';')[0];

    let stop = false;
    let sent = 0;
    const flood: Record<number, number> = {};
    const loops = Array.from({ length: FLOOD_LOOPS }, async (_, loop) => {
      while (!stop) {
        const n = sent++;
        // Every request from an address of its own (a /64 of its own, since a /64 counts as one).
        const ip = `2001:db8:${loop.toString(16)}:${n.toString(16)}::1`;
        const res = await login(`flood-${n}@example.com`, 'wrong password', ip);
        flood[res.status] = (flood[res.status] ?? 0) + 1;
      }
    });
    // The flood has filled the queue once its excess is being turned away.
    while (!flood[503]) await new Promise((resolve) => setTimeout(resolve, 20));

    const known: number[] = [];
    const stranger: number[] = [];
    // Tries alternate, so both clients meet the same flood.
    for (let i = 0; i < TRIES; i++) {
      const res = await login(user.email, user.password, '192.0.2.10', device);
      known.push(res.status);
      // Like a browser, keep the fresh device cookie a success brings.
      const renewed = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((l) => l.startsWith('device='));
      if (renewed) device = renewed.split(';')[0];
      stranger.push((await login(user.email, user.password, '192.0.2.20')).status);
    }
    stop = true;
    await Promise.all(loops);

    // The flood was real: most of it was turned away by the full queue, none of it got in.
    expect(flood[503]).toBeGreaterThan(flood[401] ?? 0);
    expect(Object.keys(flood).sort()).toEqual(['401', '503']);
    // The known device signs in on at least 12 of 15 tries (in practice all of them).
    expect(known.filter((s) => s === 200).length).toBeGreaterThanOrEqual(12);
    expect(known.every((s) => s === 200 || s === 503)).toBe(true);
    // The control: the same user and password without the device cookie is mostly turned away.
    expect(stranger.filter((s) => s === 503).length).toBeGreaterThanOrEqual(8);
    expect(stranger.every((s) => s === 200 || s === 503)).toBe(true);
  }, 60_000);
});
