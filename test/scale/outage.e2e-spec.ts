import { createServer, connect, type Server, type Socket } from 'node:net';
import request from 'supertest';
import type { App } from 'supertest/types';
import { createScratchDatabase, TEST_POSTGRES_URL, type ScratchDatabase } from '../utils/postgres';
import { createTestApp, login, signup, type LoggedIn, type TestApp, type TestUser } from '../utils/test-app';

/**
 * How the network between the app and PostgreSQL fails:
 * - `reset`: every connection is reset, and every new one reset as soon as it opens (a server
 *   that is down, a firewall that rejects);
 * - `blackhole`: every connection, open or new, goes silent: bytes are taken and never passed on,
 *   nothing comes back, nothing closes (a partition, a frozen server or VM).
 */
type Cut = 'reset' | 'blackhole';

/** A TCP proxy in front of PostgreSQL that the test can cut and restore. */
class DatabaseProxy {
  private readonly sockets = new Set<Socket>();
  private cutAs: Cut | null = null;

  private readonly server: Server;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  cut(as: Cut): void {
    this.cutAs = as;
    for (const socket of this.sockets) {
      if (as === 'reset') socket.resetAndDestroy();
      else silence(socket);
    }
  }

  /** The network is back; connections that were cut are gone for good (the server dropped them). */
  restore(): void {
    this.cutAs = null;
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.restore();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.cutAs === 'reset') return void client.resetAndDestroy();
    if (this.cutAs === 'blackhole') return silence(client);
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }
}

/** Stops passing bytes on in either direction, without closing: what goes in is dropped. */
function silence(socket: Socket): void {
  socket.unpipe();
  socket.removeAllListeners('close');
  socket.on('data', () => undefined);
}

const TIMEOUT_MS = 1000;
/** Every answer during an outage comes within this: DATABASE_TIMEOUT_MS plus a generous margin. */
const BOUND_MS = TIMEOUT_MS + 2000;

(TEST_POSTGRES_URL ? describe : describe.skip)('PostgreSQL outages', () => {
  let proxy: DatabaseProxy;
  let database: ScratchDatabase;
  let t: TestApp;
  let user: TestUser;
  let other: TestUser;
  let session: LoggedIn;
  const measured: string[] = [];

  beforeAll(async () => {
    const admin = new URL(TEST_POSTGRES_URL!);
    proxy = new DatabaseProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    await proxy.listen();
    database = await createScratchDatabase(TEST_POSTGRES_URL!, 'outage');
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    // The app migrates its empty database at start, as in production.
    t = await createTestApp({ DATABASE_URL: viaProxy.toString(), DATABASE_TIMEOUT_MS: String(TIMEOUT_MS) });
    user = await signup(t.http);
    other = await signup(t.http);
    session = await login(t.http, user);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await database?.drop();
    if (measured.length)
      process.stdout.write(`Outage timings (DATABASE_TIMEOUT_MS=${TIMEOUT_MS}):\n${measured.join('\n')}\n`);
  });

  /** Requests that need the database, each as a client would make it. */
  function requests(http: App, cookie: string): Array<[string, () => request.Test]> {
    const fresh = {
      name: 'New',
      phone: '+1 555 0101',
      email: `new-${Date.now()}@example.com`,
      password: 'correct horse battery',
    };
    return [
      ['POST /signup', () => request(http).post('/signup').send(fresh)],
      ['POST /login', () => request(http).post('/login').send({ email: other.email, password: other.password })],
      ['GET /session_status', () => request(http).get('/session_status').set('Cookie', cookie)],
      ['GET /active_sessions', () => request(http).get('/active_sessions').set('Cookie', cookie)],
      ['POST /global_chat', () => request(http).post('/global_chat').set('Cookie', cookie).send({ message: 'hi' })],
      ['GET /global_chat', () => request(http).get('/global_chat').set('Cookie', cookie)],
      [
        'POST /chats',
        () => request(http).post('/chats').set('Cookie', cookie).send({ receiver_id: other.id, message: 'hi' }),
      ],
      ['GET /health', () => request(http).get('/health')],
    ];
  }

  async function timed(make: () => request.Test): Promise<{ res: request.Response; ms: number }> {
    const start = Date.now();
    const res = await make();
    return { res, ms: Date.now() - start };
  }

  describe.each<Cut>(['reset', 'blackhole'])('with the connections to PostgreSQL cut (%s)', (cut) => {
    afterEach(() => proxy.restore());

    it('answers every request 503 within the timeout, keeps liveness, and heals when the database returns', async () => {
      await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(200);
      proxy.cut(cut);

      // Twice: the first round meets the pool's open connections breaking, the second a pool
      // that can open none.
      for (const round of [1, 2]) {
        const results = await Promise.all(
          requests(t.http, session.cookie).map(async ([name, make]) => ({ name, ...(await timed(make)) })),
        );
        measured.push(
          `  ${cut}, round ${round}: ${results.map((r) => `${r.name} ${r.res.status} in ${r.ms} ms`).join('; ')}`,
        );
        for (const { name, res, ms } of results) {
          expect({ name, status: res.status }).toEqual({ name, status: 503 });
          expect(ms).toBeLessThan(BOUND_MS);
          expect(res.headers['retry-after']).toMatch(/^\d+$/);
          expect(res.body).toMatchObject({
            statusCode: 503,
            error: 'Service Unavailable',
            message: expect.any(String),
          });
          // No SQL, driver words, addresses or secrets.
          expect(JSON.stringify(res.body)).not.toMatch(
            /select|insert|update|postgres|pg-pool|timeout|terminated|ECONN|127\.0\.0\.1|token|password|secret/i,
          );
        }
        const health = results.find((r) => r.name === 'GET /health')!.res;
        expect(health.body).toMatchObject({ status: 'error', database: 'down' });
      }

      // Liveness never asks the database.
      const live = await timed(() => request(t.http).get('/health/live'));
      expect(live.res.status).toBe(200);
      expect(live.ms).toBeLessThan(500);

      // The network is back: the same session works again, without restarting the app.
      proxy.restore();
      const restored = Date.now();
      let status = 0;
      while (Date.now() - restored < 10_000) {
        status = (await request(t.http).get('/session_status').set('Cookie', session.cookie)).status;
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
      measured.push(`  ${cut}: the session answered 200 again ${Date.now() - restored} ms after the network came back`);
      await request(t.http).get('/health').expect(200, { status: 'ok', database: 'up' });
      for (const [name, make] of requests(t.http, session.cookie)) {
        const res = await make();
        expect({ name, ok: res.status < 300 }).toEqual({ name, ok: true });
      }
    }, 60_000);
  });
});
