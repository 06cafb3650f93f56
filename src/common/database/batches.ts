import type { EntityManager, ObjectLiteral, QueryResult, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/** Rows per statement in bulk maintenance: small enough that no statement holds locks for long. */
export const BATCH_SIZE = 500;

/**
 * Repeats a bounded, conditional statement (one that touches at most `size` matching rows and says
 * how many it did) until one finds nothing left, and returns the total. Each statement commits on
 * its own. A short batch is not taken as the end: with another instance working on the same rows,
 * a batch comes back short (or empty) when the other took part of it, and only the last statement
 * to find nothing knows that nothing is left.
 */
export async function inBatches(statement: (size: number) => Promise<number>, size = BATCH_SIZE): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await statement(size);
    if (done === 0) return total;
    total += done;
  }
}

/**
 * A condition written once for both places it goes: the statement itself (`prefix` = '') and the
 * subquery that picks its batch (`prefix` = 'b.'). Column names are the entity's property names.
 */
export type BatchCondition = (prefix: string) => string;

/**
 * Deletes the rows matching `condition`, a batch of ids per statement (see inBatches). The
 * condition is repeated in the outer WHERE, so rows another instance deleted or changed meanwhile
 * are left alone: safe with several instances running it at once.
 */
export function deleteInBatches<T extends ObjectLiteral>(
  repository: Repository<T>,
  condition: BatchCondition,
  parameters: ObjectLiteral,
  size = BATCH_SIZE,
): Promise<number> {
  return inBatches(async (batch) => {
    const pick = repository.createQueryBuilder('b').select('b.id').where(condition('b.')).limit(batch).getQuery();
    const result = await repository
      .createQueryBuilder()
      .delete()
      .where(`${condition('')} AND id IN (${pick})`, parameters)
      .execute();
    return result.affected ?? 0;
  }, size);
}

/**
 * Sets `values` on the rows matching `condition`, a batch of ids per statement (see inBatches), and
 * returns how many rows changed in all. The condition is repeated in the outer WHERE, as in
 * deleteInBatches: rows another instance changed meanwhile are left alone. With `changed`, each
 * statement's changed rows (their `returning` columns) are handed to `changed.rows`: RETURNING
 * (SQLite 3.35+, PostgreSQL) tells exactly which rows each statement changed, so with several
 * instances at work each row is reported by the one that changed it, once. Each such statement runs
 * in a transaction with `changed.rows` (given it as `tx`), so what that writes about the rows
 * commits if and only if the change does.
 */
export async function updateInBatches<T extends ObjectLiteral, R extends ObjectLiteral>(
  repository: Repository<T>,
  values: QueryDeepPartialEntity<T>,
  condition: BatchCondition,
  parameters: ObjectLiteral,
  changed?: { returning: string; rows: (rows: R[], tx: EntityManager) => void | Promise<void> },
  size = BATCH_SIZE,
): Promise<number> {
  return inBatches(async (batch) => {
    const pick = repository.createQueryBuilder('b').select('b.id').where(condition('b.')).limit(batch).getQuery();
    const update = repository
      .createQueryBuilder()
      .update()
      .set(values)
      .where(`${condition('')} AND id IN (${pick})`, parameters);
    if (!changed) return (await update.execute()).affected ?? 0;
    const [sql, sqlParameters] = update.getQueryAndParameters();
    // Each statement in a transaction of its own with what `changed.rows` writes about its rows.
    return repository.manager.connection.transaction(async (tx) => {
      const result = (await tx.queryRunner!.query(
        `${sql} RETURNING ${changed.returning}`,
        sqlParameters,
        true,
      )) as QueryResult<R>;
      const rows = result.records ?? [];
      await changed.rows(rows, tx);
      return rows.length;
    });
  }, size);
}
