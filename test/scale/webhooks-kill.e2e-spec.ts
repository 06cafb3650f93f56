import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, TEST_POSTGRES_URL, type ScratchDatabase } from '../utils/postgres';
import { buildServer, startServer, type ServerProcess } from '../utils/server-process';
import { createTestApp } from '../utils/test-app';
import { drain, expectOneEventPerTransition, Receiver, SECRET } from '../utils/webhook-receiver';

const PASSWORD = 'correct horse battery staple';

/**
 * `kill -9` of a server process between the commit of a change and the delivery of its webhook:
 * the built server, a real process, commits sign-ins and logouts while the endpoint holds every
 * request unanswered, and is killed with its deliveries in flight. Another instance on the same
 * database then delivers every event, once the dead one's claims lapse.
 */
describe('Webhooks across a kill -9', () => {
  const receiver = new Receiver();
  let db: ScratchDatabase | undefined;
  let server: ServerProcess | undefined;
  const mailFolder = mkdtempSync(join(tmpdir(), 'webhooks-kill-'));

  beforeAll(async () => {
    await receiver.start();
    await buildServer();
    db = await createScratchDatabase(TEST_POSTGRES_URL!, 'webhooks_kill');
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
    await db?.drop();
    await rm(mailFolder, { recursive: true, force: true });
  }, 30_000);

  it('loses no event committed before the kill', async () => {
    receiver.hang = true;
    server = await startServer('A', {
      DATABASE_URL: db!.url,
      MIGRATIONS_RUN: 'true',
      SECRET_KEY: randomBytes(32).toString('base64url'),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      BCRYPT_ROUNDS: '4',
      AUTH_RATE_LIMIT: '100000',
      CLEANUP_INTERVAL_MINUTES: '0',
      MAIL_OUTBOX_DIR: mailFolder,
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
    });
    const post = (path: string, body: unknown, cookie?: string) =>
      fetch(`${server!.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
        body: JSON.stringify(body),
      });
    const users = [];
    for (let i = 0; i < 3; i++) {
      const email = `kill${i}@example.com`;
      expect(
        (await post('/signup', { name: `Kill ${i}`, phone: '+1 555 0100', email, password: PASSWORD })).status,
      ).toBe(201);
      users.push(email);
    }
    for (let i = 0; i < 12; i++) {
      const res = await post('/login', { email: users[i % 3], password: PASSWORD });
      expect(res.status).toBe(200);
      const cookie = /session_token=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
      if (i % 2 === 0) expect((await post('/logout', {}, cookie)).status).toBe(200);
    }
    // Deliveries in flight: the process has claimed rows and is waiting on the endpoint.
    for (let wait = 0; receiver.holding === 0 && wait < 100; wait++) await new Promise((r) => setTimeout(r, 50));
    expect(receiver.holding).toBeGreaterThan(0);
    await server.kill();
    expect(receiver.received).toEqual([]);

    receiver.hang = false;
    const t = await createTestApp({
      DATABASE_URL: db!.url,
      MIGRATIONS_RUN: 'false',
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
    });
    try {
      // The dead instance's claims hold its rows for two minutes.
      t.clock.advance(121);
      await drain(t);
      expect(receiver.rejected).toEqual([]);
      expect(await expectOneEventPerTransition(t, receiver.events())).toBe(12);
    } finally {
      await t.close();
    }
  }, 60_000);
});
