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
