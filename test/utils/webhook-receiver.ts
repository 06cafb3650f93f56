import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { OutboxEntry } from '../../src/mail/outbox.entity';
import { Outbox } from '../../src/mail/outbox.service';
import { Session } from '../../src/sessions/session.entity';
import { createScratchDatabase, ON_POSTGRES, TEST_POSTGRES_URL, type ScratchDatabase } from './postgres';
import type { TestApp } from './test-app';

export const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

export interface Received {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { session_id?: number; user_id?: number | null; reason?: string };
  body: string;
  headers: IncomingHttpHeaders;
}

/**
 * A webhook endpoint on loopback: every request's signature is checked with the standardwebhooks
 * package (a request that fails the check fails the test); `answer` is what it replies (200, or a
 * failure), and `stop`/`start` make it refuse connections altogether.
 */
export class Receiver {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  answer = 200;
  /** Accept requests and never answer them (a receiver stuck, or a sender killed mid-request). */
  hang = false;
  private readonly held: ServerResponse[] = [];
  private server: Server | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<void> {
    const verifier = new Webhook(SECRET);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.hang) {
          this.held.push(res);
          return;
        }
        try {
          if (req.headers['content-type'] !== 'application/json') throw new Error('not JSON');
          const message = verifier.verify(body, req.headers as Record<string, string>) as Omit<Received, 'id'>;
          if (this.answer === 200)
            this.received.push({ ...message, id: req.headers['webhook-id'] as string, body, headers: req.headers });
        } catch (error) {
          this.rejected.push(String(error));
        }
        res.writeHead(this.answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.held.splice(0).forEach((res) => res.destroy());
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** How many requests are held unanswered (hang). */
  get holding(): number {
    return this.held.length;
  }

  /** The distinct events received (by webhook-id); a retry must repeat its event exactly. */
  events(): Received[] {
    const byId = new Map<string, Received>();
    for (const event of this.received) {
      const first = byId.get(event.id);
      if (first) expect(event.body).toBe(first.body);
      else byId.set(event.id, event);
    }
    return [...byId.values()];
  }
}

/** Delivers until no webhook row is pending (rows held back by their order become due as earlier ones go). */
export async function drain(t: TestApp): Promise<void> {
  const outbox = t.app.get(Outbox);
  for (let round = 0; round < 1000; round++) {
    outbox.kick();
    await outbox.idle();
    const pending = await t.dataSource
      .getRepository(OutboxEntry)
      .createQueryBuilder('o')
      .where("o.kind = 'webhook' AND o.sent_at IS NULL AND o.failed_at IS NULL")
      .getCount();
    if (pending === 0) return;
  }
  throw new Error('outbox not drained');
}

/** A database two apps can open one after the other (or at once, on PostgreSQL). */
export async function sharedDatabase(): Promise<ScratchDatabase> {
  if (ON_POSTGRES)
    return createScratchDatabase(TEST_POSTGRES_URL!, process.env.TEST_PG_RUN!, process.env.TEST_PG_TEMPLATE);
  const folder = mkdtempSync(join(tmpdir(), 'webhooks-'));
  return { url: `sqlite:///${join(folder, 'app.db')}`, drop: () => rm(folder, { recursive: true, force: true }) };
}

/** Each session's events in the order received, by session id. */
export function bySession(events: Received[]): Map<number, Received[]> {
  const sessions = new Map<number, Received[]>();
  for (const event of events) {
    if (!event.type.startsWith('session.')) continue;
    const id = event.data.session_id!;
    sessions.set(id, [...(sessions.get(id) ?? []), event]);
  }
  return sessions;
}

/** Every session row against the events: one session.created each, and one session.ended with its reason if ended. */
export async function expectOneEventPerTransition(t: TestApp, events: Received[]): Promise<number> {
  const sessions = await t.dataSource.getRepository(Session).find();
  const received = bySession(events);
  for (const session of sessions) {
    const expected = [{ type: 'session.created', data: expect.objectContaining({ session_id: session.id }) }];
    if (!session.isActive)
      expected.push({
        type: 'session.ended',
        data: expect.objectContaining({ session_id: session.id, user_id: session.userId, reason: session.endReason }),
      });
    expect((received.get(session.id) ?? []).map(({ type, data }) => ({ type, data }))).toEqual(expected);
  }
  expect(received.size).toBe(sessions.length);
  return sessions.length;
}
