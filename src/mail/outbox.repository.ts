import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository, type QueryResult } from 'typeorm';
import { deleteInBatches } from '../common/database/batches';
import type { Transaction } from '../common/database/transactions';
import { OutboxEntry } from './outbox.entity';

/** A row a worker has claimed: what to do, and how many attempts this one makes (counting itself). */
export interface ClaimedEntry {
  id: number;
  kind: string;
  payload: string;
  attempts: number;
}

/** How a claimed row ends its attempt when it did not succeed. */
export type Release = { retryAt: Date; error: string } | { failedAt: Date; error: string };

/**
 * The `outbox` table. Every write after the insert is conditional on the claim (`locked_by`) and on
 * the row not being finished, and says whether it changed the row, so a worker whose claim lapsed
 * cannot undo another's work. Methods taking `tx` run in that transaction when given one.
 */
@Injectable()
export class OutboxRepository {
  constructor(@InjectRepository(OutboxEntry) private readonly entries: Repository<OutboxEntry>) {}

  async insert(
    kind: string,
    payload: string,
    now: Date,
    tx: Transaction = this.entries.manager,
    orderingKey: string | null = null,
  ): Promise<number> {
    const entry = tx.create(OutboxEntry, { kind, payload, createdAt: now, availableAt: now, attempts: 0, orderingKey });
    await tx.insert(OutboxEntry, entry);
    return entry.id;
  }

  /**
   * Claims up to `limit` rows of these kinds that are due (not finished, next attempt reached, no
   * live claim), in one statement: marks them locked by `worker` until `lockedUntil`, counts the
   * attempt, and returns them. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so two
   * instances claiming at once take different rows (neither waits for nor takes the other's); the
   * outer WHERE repeats the condition, re-checked on each row when it is locked. A row with an
   * ordering key waits while an earlier row of its key (lower id) is neither sent nor given up, so
   * a key's rows go out one at a time, in order, whatever the retries (the earlier row's own claim
   * counts as undelivered); ix_outbox_ordering answers that check. SQLite has one
   * connection and runs transactions one at a time, so the statement alone is atomic there.
   * `tx` must be a transaction (the lock is held until it commits).
   */
  async claim(
    kinds: string[],
    worker: string,
    now: Date,
    lockedUntil: Date,
    limit: number,
    tx: Transaction,
  ): Promise<ClaimedEntry[]> {
    const postgres = tx.connection.driver.options.type === 'postgres';
    const due =
      'sent_at IS NULL AND failed_at IS NULL AND available_at <= :now AND (locked_until IS NULL OR locked_until <= :now)';
    const [sql, parameters] = tx.connection.driver.escapeQueryWithParameters(
      `UPDATE outbox SET locked_until = :until, locked_by = :worker, attempts = attempts + 1
       WHERE ${due} AND id IN (
         SELECT id FROM outbox WHERE ${due} AND kind IN (:...kinds)
         AND (ordering_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM outbox earlier WHERE earlier.ordering_key = outbox.ordering_key AND earlier.id < outbox.id
           AND earlier.sent_at IS NULL AND earlier.failed_at IS NULL))
         ORDER BY available_at, id LIMIT :limit${postgres ? ' FOR UPDATE SKIP LOCKED' : ''}
       )
       RETURNING id, kind, payload, attempts`,
      { now, until: lockedUntil, worker, kinds, limit },
      {},
    );
    const result = (await tx.queryRunner!.query(sql, parameters, true)) as QueryResult<ClaimedEntry>;
    return (result.records ?? []).map((row) => ({ ...row, id: Number(row.id), attempts: Number(row.attempts) }));
  }

  /**
   * Marks a claimed row sent, only while `worker`'s claim on it stands; whether it did. The payload
   * is emptied: a mail's links hold tokens, and a sent mail's copy has no use.
   */
  async markSent(id: number, worker: string, now: Date, tx: Transaction = this.entries.manager): Promise<boolean> {
    const result = await tx.update(
      OutboxEntry,
      { id, lockedBy: worker, sentAt: IsNull(), failedAt: IsNull() },
      { sentAt: now, payload: '', lockedUntil: null, lockedBy: null, lastError: null },
    );
    return (result.affected ?? 0) > 0;
  }

  /** Ends a claimed row's failed attempt: due again at `retryAt`, or given up. Only while the claim stands. */
  async release(
    id: number,
    worker: string,
    outcome: Release,
    tx: Transaction = this.entries.manager,
  ): Promise<boolean> {
    const result = await tx.update(
      OutboxEntry,
      { id, lockedBy: worker, sentAt: IsNull(), failedAt: IsNull() },
      {
        lockedUntil: null,
        lockedBy: null,
        lastError: outcome.error.slice(0, 200),
        ...('retryAt' in outcome ? { availableAt: outcome.retryAt } : { failedAt: outcome.failedAt, payload: '' }),
      },
    );
    return (result.affected ?? 0) > 0;
  }

  /**
   * Deletes rows sent, or given up, before `cutoff`; how many. Their payload is already empty: what
   * is left is the record that a mail went out, kept for RETENTION_DAYS like the sessions and
   * attempts it belongs with. One condition per statement, each read through its own partial index
   * (ix_outbox_sent, ix_outbox_failed); conditional and batched, so instances may run it at once.
   */
  async deleteFinishedBefore(cutoff: Date): Promise<number> {
    const sent = await deleteInBatches(this.entries, (o) => `${o}sentAt < :cutoff`, { cutoff });
    const failed = await deleteInBatches(this.entries, (o) => `${o}failedAt < :cutoff`, { cutoff });
    return sent + failed;
  }
}
