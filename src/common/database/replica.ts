import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { isDatabaseUnavailable } from './database-errors';

/** How long the replica is left alone after it was found unreachable, before it is tried again. */
export const REPLICA_RETRY_AFTER_MS = 10_000;

const logger = new Logger('Database');

/** Per data source: until when (performance.now()) reads skip the replica. */
const replicaSkippedUntil = new WeakMap<DataSource, number>();

/**
 * Runs a read that may lag on the read replica (DATABASE_REPLICA_URL), through a connection of its
 * own that is released after; without a replica (SQLite, or none configured) on the usual manager.
 * Only for reads outside a transaction whose answer may be a moment old: lists and histories. The
 * session guard, every write and every read that decides a write stay on the primary, so a
 * revocation or logout is refused at once whatever the replica's lag (docs/REPLICATION.md).
 *
 * When the replica fails the read is retried on the primary, so lists keep answering with a warning
 * in the log; a replica that cannot be reached is then skipped for REPLICA_RETRY_AFTER_MS, so that
 * requests do not each wait for its connection timeout.
 */
export async function readFromReplica<T>(
  dataSource: DataSource,
  read: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (!dataSource.driver.isReplicated || performance.now() < (replicaSkippedUntil.get(dataSource) ?? 0))
    return read(dataSource.manager);
  const runner = dataSource.createQueryRunner('slave');
  let failure: unknown;
  try {
    return await read(runner.manager);
  } catch (error) {
    failure = error;
  } finally {
    await runner.release();
  }
  const unavailable = isReplicaUnavailable(failure);
  if (unavailable) replicaSkippedUntil.set(dataSource, performance.now() + REPLICA_RETRY_AFTER_MS);
  logger.warn(
    `read replica failed (${failure instanceof Error ? failure.message : String(failure)}); reading from the primary` +
      (unavailable ? ` for the next ${REPLICA_RETRY_AFTER_MS / 1000} s` : ''),
  );
  return read(dataSource.manager);
}

/** The replica is down or unreachable, rather than this one query having failed. */
function isReplicaUnavailable(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  // pg-pool's connection timeout and node-postgres' query_timeout say so only in their message.
  return isDatabaseUnavailable(error) || /timeout exceeded when trying to connect|Query read timeout/i.test(message);
}
