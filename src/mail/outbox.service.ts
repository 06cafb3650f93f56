import { randomUUID } from 'node:crypto';
import { Injectable, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type EntitySubscriberInterface, type TransactionCommitEvent } from 'typeorm';
import { Clock } from '../common/clock';
import { Meter } from '../common/meter';
import { Transactions, type Transaction } from '../common/database/transactions';
import type { MailMessage } from './mail-message';
import { isPermanentMailError, Mailer } from './mailer';
import { OutboxRepository, type ClaimedEntry } from './outbox.repository';

/** What each kind of outgoing event carries. A new kind adds its payload here and its handler below. */
export interface OutboxPayloads {
  mail: MailMessage;
  webhook: WebhookDelivery;
}

/**
 * One event for one endpoint (src/webhooks): the Standard Webhooks message, its `webhook-id` fixed
 * when the event is written so every attempt carries the same one.
 */
export interface WebhookDelivery {
  url: string;
  id: string;
  type: string;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  data: Record<string, unknown>;
}
export type OutboxKind = keyof OutboxPayloads;

/** Seconds before the first retry; doubled after each failure, up to MAX_DELAY. */
const FIRST_DELAY = 5;
const MAX_DELAY = 3600;
/** Attempts before a row is given up: with the delays above, about a day of outage. */
export const MAX_ATTEMPTS = 30;
/** How long a claim holds a row: far longer than a send may take (Mailer's SMTP timeouts). */
const CLAIM_SECONDS = 120;
/** Rows claimed per statement. */
const BATCH = 20;
/** The poll that picks up what no kick announced: retries coming due, another instance's rows. */
const POLL_MS = 5000;
type Handler<K extends OutboxKind> = (payload: OutboxPayloads[K]) => Promise<void>;

/** Marks a transaction that enqueued something, so its commit starts a delivery pass. */
const ENQUEUED = Symbol('outboxEnqueued');

/** Seconds to wait after the n-th failed attempt (n ≥ 1): 5, 10, 20, … up to an hour. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(FIRST_DELAY * 2 ** Math.min(attempts - 1, 20), MAX_DELAY);
}

/** An error as last_error and the log keep it: its class and codes, never its message (it can quote an address). */
function describeError(error: unknown): string {
  const { name, code, responseCode } = (error ?? {}) as { name?: unknown; code?: unknown; responseCode?: unknown };
  const parts = [typeof name === 'string' ? name : typeof error];
  for (const part of [code, responseCode])
    if (typeof part === 'string' || typeof part === 'number') parts.push(String(part));
  return parts.join(' ');
}

/**
 * The durable outbox: work that must follow a committed change (a mail, a webhook) is written in the
 * change's own transaction (`enqueue`), so it exists if and only if the change does, and is
 * delivered afterwards by this worker. Nothing of delivery reaches a request: an SMTP outage delays
 * mail, it never fails an answer or shows in one.
 *
 * Delivery: after each transaction that enqueued commits (a TypeORM subscriber sees the commit), at
 * start (rows left by a previous run), and every few seconds (retries coming due). A pass claims
 * due rows in a short transaction (OutboxRepository.claim: atomic, SKIP LOCKED on PostgreSQL), sends
 * each, then marks it sent — or, on failure, due again after a delay doubling from 5 seconds to an
 * hour, and given up after MAX_ATTEMPTS or at once when the server refuses the message itself (5xx).
 * Both marks are conditional on the claim, so two instances on one PostgreSQL never send a row
 * twice while each is alive. Delivery is at least once, not exactly once: an instance that dies
 * between the SMTP server's acceptance and the mark leaves the row to be sent again after its claim
 * (CLAIM_SECONDS) lapses — a rare duplicate mail rather than a lost one.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, OnModuleDestroy {
  /** This instance's name in locked_by. */
  private readonly worker = `${process.pid}-${randomUUID()}`;
  private readonly handlers: { [K in OutboxKind]: Handler<K> | null };
  private pass: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly entries: OutboxRepository,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    mailer: Mailer,
    dataSource: DataSource,
    private readonly logger: PinoLogger,
    @Optional() private readonly meter?: Meter,
  ) {
    this.logger.setContext('Outbox');
    // A kind without a handler here (mail in production without MAIL_URL) waits in the table.
    // webhook: set by the module that sends them (WebhooksModule, above this one), when configured.
    this.handlers = { mail: mailer.available ? (message) => mailer.send(message) : null, webhook: null };
    const kick = (event: TransactionCommitEvent) => {
      const data = event.queryRunner.data as Record<symbol, unknown>;
      if (!data[ENQUEUED]) return;
      delete data[ENQUEUED];
      this.kick();
    };
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: kick,
      afterTransactionRollback: (event) => void delete (event.queryRunner.data as Record<symbol, unknown>)[ENQUEUED],
    };
    dataSource.subscribers.push(subscriber);
  }

  /**
   * Queues `payload` for delivery, in `tx` (the transaction of the change that causes it: the row
   * commits or rolls back with the change). Delivery starts once that transaction commits. Without
   * `tx`, the row is written and delivery starts at once. Rows of one `orderingKey` are delivered
   * in the order enqueued: none is tried while an earlier one of that key is neither sent nor given up.
   */
  async enqueue<K extends OutboxKind>(
    kind: K,
    payload: OutboxPayloads[K],
    tx?: Transaction,
    orderingKey: string | null = null,
  ): Promise<void> {
    await this.entries.insert(kind, JSON.stringify(payload), this.clock.now(), tx, orderingKey);
    const runner = tx?.queryRunner;
    if (runner?.isTransactionActive) (runner.data as Record<symbol, unknown>)[ENQUEUED] = true;
    else this.kick();
  }

  /** Sets the sender of a kind (a module above this one provides it); before the app starts. */
  handle<K extends OutboxKind>(kind: K, handler: Handler<K>): void {
    (this.handlers as Record<OutboxKind, unknown>)[kind] = handler;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), POLL_MS);
    // Never what keeps the process alive.
    this.timer.unref();
    // What a previous run left undelivered.
    this.kick();
  }

  /** Stops before the database closes (Nest destroys modules before TypeORM's shutdown hook): no pass starts, the one under way ends. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle();
  }

  /** Starts a delivery pass, or asks the running one for another round (rows may have come since its last claim). */
  kick(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.drain().finally(() => {
      this.pass = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** The cleanup job's retention: deletes rows sent or given up before `cutoff`; how many. */
  deleteFinishedBefore(cutoff: Date): Promise<number> {
    return this.entries.deleteFinishedBefore(cutoff);
  }

  /** Settles when no pass is running (nor asked for). */
  async idle(): Promise<void> {
    while (this.pass) await this.pass;
  }

  /** Claims and delivers due rows until none are left; failures are logged, never thrown. */
  private async drain(): Promise<void> {
    const kinds = (Object.keys(this.handlers) as OutboxKind[]).filter((kind) => this.handlers[kind]);
    if (kinds.length === 0) return;
    try {
      while (!this.stopped) {
        const now = this.clock.now();
        const claimed = await this.transactions.run((tx) =>
          this.entries.claim(kinds, this.worker, now, new Date(now.getTime() + CLAIM_SECONDS * 1000), BATCH, tx),
        );
        for (const entry of claimed) await this.deliver(entry);
        if (claimed.length < BATCH) break;
      }
    } catch (error) {
      // The database itself failed (the claim or a mark): the next kick or poll tries again.
      this.logger.error({ event: 'outbox_failed', error: describeError(error) }, 'outbox pass failed');
    }
  }

  private async deliver(entry: ClaimedEntry): Promise<void> {
    let outcome: 'sent' | 'retry' | 'failed';
    let error = '';
    try {
      const handler = this.handlers[entry.kind as OutboxKind] as ((payload: unknown) => Promise<void>) | null;
      if (!handler) throw new Error(`no handler for outbox kind ${entry.kind}`);
      await handler(JSON.parse(entry.payload));
      outcome = 'sent';
    } catch (thrown) {
      error = describeError(thrown);
      outcome = isPermanentMailError(thrown) || entry.attempts >= MAX_ATTEMPTS ? 'failed' : 'retry';
    }
    const now = this.clock.now();
    if (outcome === 'sent') {
      await this.transactions.run((tx) => this.entries.markSent(entry.id, this.worker, now, tx));
      this.logger.info({ event: 'outbox_sent', id: entry.id, kind: entry.kind, attempts: entry.attempts }, 'sent');
      return;
    }
    const delay = retryDelaySeconds(entry.attempts);
    await this.transactions.run((tx) =>
      this.entries.release(
        entry.id,
        this.worker,
        outcome === 'failed' ? { failedAt: now, error } : { retryAt: new Date(now.getTime() + delay * 1000), error },
        tx,
      ),
    );
    const fields = { id: entry.id, kind: entry.kind, attempts: entry.attempts, error };
    this.meter?.outboxDeliveryFailed(entry.kind, outcome === 'failed' ? 'given_up' : 'retry');
    if (outcome === 'failed') this.logger.error({ event: 'outbox_given_up', ...fields }, 'outbox entry given up');
    else
      this.logger.warn({ event: 'outbox_retry', ...fields, retry_in_s: delay }, 'outbox delivery failed, will retry');
  }
}
