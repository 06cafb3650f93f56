import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One e-mail, one look: addresses were stored trimmed and lower-cased only; from now on every
 * address entering is also width-mapped and NFC-normalised (src/common/email.ts), and looked up in
 * that form. This brings the stored ones to the same form, so that an account stored decomposed
 * (`jose\u0301@...`) is still found. The mapping is copied here, not imported, so that this
 * migration keeps doing what it did if the app's rule changes later.
 *
 * Only rows with characters beyond printable ASCII can change (that is in normal form once lower-cased).
 * A row whose normal form is already another account's (two look-alike accounts made before the
 * rule) keeps its address, and its id is printed: the migration never fails on it, and an
 * operator decides which account is the real one. Either way a rule check at signup now refuses
 * a third. The guard is in the UPDATE itself (NOT EXISTS), so a signup made meanwhile by an older
 * instance at worst fails this migration's transaction (retried at the next start), never half-applies it.
 *
 * down: the original spellings are not kept (a decomposed and a composed address are the same
 * address), so there is nothing to restore; the older code reads NFC rows as it read any others.
 */
export class EmailNfc1764700000000 implements MigrationInterface {
  name = 'EmailNfc1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const p = (n: number) => (postgres ? `$${n}` : '?');
    const kept: number[] = [];
    let after = 0;
    for (;;) {
      const rows = (await queryRunner.query(`SELECT id, email FROM users WHERE id > ${p(1)} ORDER BY id LIMIT 500`, [
        after,
      ])) as Array<{ id: number; email: string }>;
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      for (const { id, email } of rows) {
        if (/^[ -~]*$/.test(email)) continue;
        const normal = email
          .trim()
          .replace(/[\uff01-\uffee]/g, (ch) => ch.normalize('NFKC'))
          .normalize('NFC')
          .toLowerCase()
          .normalize('NFC');
        if (normal === email) continue;
        if (Array.from(normal).length > 254) {
          kept.push(id);
          continue;
        }
        await queryRunner.query(
          `UPDATE users SET email = ${p(1)} WHERE id = ${p(2)} AND NOT EXISTS (SELECT 1 FROM users other WHERE other.email = ${p(3)})`,
          [normal, id, normal],
        );
        const updated = (await queryRunner.query(`SELECT email FROM users WHERE id = ${p(1)}`, [id])) as Array<{
          email: string;
        }>;
        if (updated[0]?.email !== normal) kept.push(id);
      }
    }
    if (kept.length > 0)
      // Ids only: an address is personal data and logs travel further than the database.
      console.warn(
        `EmailNfc: ${kept.length} user(s) kept an address whose normal form is another account's (or too long): ids ${kept.join(', ')}`,
      );
  }

  async down(): Promise<void> {
    // Nothing to restore (see above).
  }
}
