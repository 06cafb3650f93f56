import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import request from 'supertest';
import { escapeHtml, type MailMessage } from '../src/mail/mail-message';
import { Links } from '../src/mail/links';
import { Mailer } from '../src/mail/mailer';
import { OutboxEntry } from '../src/mail/outbox.entity';
import { Outbox, retryDelaySeconds } from '../src/mail/outbox.service';
import { createScratchDatabase, ON_POSTGRES, TEST_POSTGRES_URL, type ScratchDatabase } from './utils/postgres';
import { startSmtp, type TestSmtp } from './utils/smtp';
import { createTestApp, TEST_SECRET, type TestApp } from './utils/test-app';

const PUBLIC_URL = 'https://sessions.example.test';

/** A mail as a flow would write it: a link built by Links, in both parts. */
function resetMail(t: TestApp, to: string, token: string): MailMessage {
  const link = t.app.get(Links).to('/reset_password_page', { token });
  return {
    to,
    subject: `Reset your password (${token})`,
    text: `Choose a new password: ${link}`,
    html: `<p>Choose a new password: <a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`,
  };
}

/** The outbox's rows, oldest first. */
function rows(t: TestApp): Promise<OutboxEntry[]> {
  return t.dataSource.getRepository(OutboxEntry).find({ order: { id: 'ASC' } });
}

/** Runs a delivery pass as the poll would, and waits for it to end. */
async function poll(t: TestApp): Promise<void> {
  const outbox = t.app.get(Outbox);
  outbox.kick();
  await outbox.idle();
}

/** A database two apps can open one after the other (or at once, on PostgreSQL). */
async function sharedDatabase(): Promise<ScratchDatabase> {
  if (ON_POSTGRES)
    return createScratchDatabase(TEST_POSTGRES_URL!, process.env.TEST_PG_RUN!, process.env.TEST_PG_TEMPLATE);
  const folder = mkdtempSync(join(tmpdir(), 'outbox-'));
  return {
    url: `sqlite:///${join(folder, 'app.db')}`,
    drop: () => rm(folder, { recursive: true, force: true }),
  };
}

describe('Mail and the outbox', () => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await smtp?.close();
  });
  beforeEach(() => {
    smtp.accept();
    smtp.messages.length = 0;
  });

  describe('with an SMTP server', () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL, MAIL_FROM: 'Sessions <no-reply@example.test>' });
    });
    afterEach(async () => {
      await t?.close();
    });

    it('delivers a mail enqueued in a committed transaction, in text and HTML, linking to PUBLIC_URL', async () => {
      await t.dataSource.transaction((tx) =>
        t.app.get(Outbox).enqueue('mail', resetMail(t, 'ada@example.com', 'tok1'), tx),
      );
      await t.app.get(Outbox).idle();

      expect(smtp.messages).toHaveLength(1);
      const [mail] = smtp.messages;
      const link = `${PUBLIC_URL}/reset_password_page?token=tok1`;
      expect(mail.subject).toBe('Reset your password (tok1)');
      expect(mail.from?.value).toEqual([{ name: 'Sessions', address: 'no-reply@example.test' }]);
      expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : mail.to).toBe('ada@example.com');
      expect(mail.text).toContain(link);
      expect(mail.html).toContain(`href="${link}"`);

      const [row] = await rows(t);
      expect(row).toMatchObject({ kind: 'mail', attempts: 1, lastError: null, failedAt: null, payload: '' });
      expect(row.sentAt).toBeInstanceOf(Date);
      // Sent once: later passes find nothing to do.
      t.clock.advance(3 * 3600);
      await poll(t);
      expect(smtp.messages).toHaveLength(1);
    });

    it('sends nothing for a transaction that rolls back', async () => {
      await expect(
        t.dataSource.transaction(async (tx) => {
          await t.app.get(Outbox).enqueue('mail', resetMail(t, 'ada@example.com', 'never'), tx);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      await poll(t);
      expect(smtp.messages).toHaveLength(0);
      expect(await rows(t)).toEqual([]);
    });

    it('keeps a mail through an outage (refused, then down), retrying with backoff, and sends it once', async () => {
      smtp.refuse();
      await t.app.get(Outbox).enqueue('mail', resetMail(t, 'ada@example.com', 'tok2'));
      await t.app.get(Outbox).idle();
      let [row] = await rows(t);
      expect(row).toMatchObject({ attempts: 1, sentAt: null, failedAt: null, lockedBy: null });
      // Class and codes only: the SMTP answer's text is not stored.
      expect(row.lastError).toContain('421');
      expect(row.availableAt.getTime() - t.clock.now().getTime()).toBeGreaterThan(0);

      // Not due before its delay has passed.
      await poll(t);
      expect((await rows(t))[0].attempts).toBe(1);

      // The server is down now: the next attempt fails too, and waits twice as long.
      smtp.accept();
      await smtp.stop();
      t.clock.advance(retryDelaySeconds(1) + 1);
      await poll(t);
      [row] = await rows(t);
      expect(row).toMatchObject({ attempts: 2, sentAt: null, failedAt: null });
      expect(row.lastError).not.toContain('421');
      expect(retryDelaySeconds(2)).toBe(2 * retryDelaySeconds(1));

      // Back up: delivered at the next due pass, once.
      await smtp.start();
      t.clock.advance(retryDelaySeconds(2) + 1);
      await poll(t);
      expect(smtp.messages.map((m) => m.subject)).toEqual(['Reset your password (tok2)']);
      [row] = await rows(t);
      expect(row).toMatchObject({ attempts: 3, lastError: null, payload: '' });
      t.clock.advance(3 * 3600);
      await poll(t);
      expect(smtp.messages).toHaveLength(1);
    });

    it('never lets an SMTP outage reach a request', async () => {
      await smtp.stop();
      try {
        await t.app.get(Outbox).enqueue('mail', resetMail(t, 'ada@example.com', 'tok3'));
        const res = await request(t.http).get('/health').expect(200);
        expect(JSON.stringify(res.body)).not.toMatch(/mail|smtp/i);
        await t.app.get(Outbox).idle();
        expect((await rows(t))[0]).toMatchObject({ attempts: 1, sentAt: null });
      } finally {
        await smtp.start();
      }
    });

    it('builds links from PUBLIC_URL only, and only to paths of this server', () => {
      const links = t.app.get(Links);
      expect(links.to('/verify_email_page', { token: 'a b&c' })).toBe(`${PUBLIC_URL}/verify_email_page?token=a+b%26c`);
      for (const path of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'x']) {
        expect(() => links.to(path)).toThrow();
      }
    });
  });

  it('links default to http://localhost:PORT', async () => {
    const t = await createTestApp({ PORT: '5123' });
    try {
      expect(t.app.get(Links).to('/userpage')).toBe('http://localhost:5123/userpage');
    } finally {
      await t.close();
    }
  });

  it('resumes delivery after a restart: what one app queued, the next one on the database sends', async () => {
    const db = await sharedDatabase();
    try {
      // Production without MAIL_URL: nothing is sent, the rows wait (and the start says why).
      const first = await createTestApp(
        { DATABASE_URL: db.url, NODE_ENV: 'production', SECRET_KEY: TEST_SECRET },
        { captureLogs: true },
      );
      expect(first.app.get(Mailer).available).toBe(false);
      expect(first.logs.map((line) => JSON.parse(line) as { event?: string; level: string })).toContainEqual(
        expect.objectContaining({ event: 'mail_unavailable', level: 'warn' }),
      );
      for (const n of [1, 2, 3])
        await first.app.get(Outbox).enqueue('mail', resetMail(first, 'ada@example.com', `r${n}`));
      await poll(first);
      expect((await rows(first)).map((row) => row.attempts)).toEqual([0, 0, 0]);
      await first.close();

      const second = await createTestApp({
        DATABASE_URL: db.url,
        MAIL_URL: smtp.url,
        PUBLIC_URL,
        MIGRATIONS_RUN: 'false',
      });
      try {
        // No kick: the start picks up what is waiting.
        await second.app.get(Outbox).idle();
        expect(smtp.messages.map((m) => m.subject).sort()).toEqual([1, 2, 3].map((n) => `Reset your password (r${n})`));
        expect((await rows(second)).every((row) => row.sentAt !== null)).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('without MAIL_URL in development, writes the mail to the outbox folder and the log', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'mail-outbox-'));
    const t = await createTestApp({ NODE_ENV: 'development', MAIL_OUTBOX_DIR: folder }, { captureLogs: true });
    try {
      expect(t.app.get(Mailer).mode).toBe('folder');
      await t.app.get(Outbox).enqueue('mail', resetMail(t, 'ada@example.com', 'dev1'));
      await t.app.get(Outbox).idle();
      const files = readdirSync(folder).sort();
      expect(files).toHaveLength(2);
      expect(files[0]).toMatch(/\.eml$/);
      expect(files[1]).toBe(files[0].replace(/\.eml$/, '.txt'));
      // The text part as written: the link on one line, greppable.
      const text = readFileSync(join(folder, files[1]), 'utf8');
      expect(text).toMatch(/^To: ada@example\.com\nSubject: Reset your password \(dev1\)\n\n/);
      expect(text).toContain('http://localhost:5000/reset_password_page?token=dev1');
      const mail = await simpleParser(readFileSync(join(folder, files[0])));
      expect(mail.subject).toBe('Reset your password (dev1)');
      expect(mail.text).toContain('http://localhost:5000/reset_password_page?token=dev1');
      expect(mail.html).toContain('href="http://localhost:5000/reset_password_page?token=dev1"');
      const logged = t.logs.map((line) => JSON.parse(line) as { event?: string; msg: string; file?: string });
      const line = logged.find((entry) => entry.event === 'mail_written');
      expect(line?.file).toBe(join(folder, files[0]));
      expect(line?.msg).toContain('Reset your password (dev1)');
      expect(line?.msg).toContain('/reset_password_page?token=dev1');
      expect((await rows(t))[0].sentAt).toBeInstanceOf(Date);
    } finally {
      await t.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  (ON_POSTGRES ? describe : describe.skip)('two instances on one PostgreSQL database', () => {
    it('deliver each of N mails exactly once', async () => {
      const db = await sharedDatabase();
      const env = { DATABASE_URL: db.url, MAIL_URL: smtp.url, PUBLIC_URL, MIGRATIONS_RUN: 'false' };
      const a = await createTestApp(env);
      const b = await createTestApp(env);
      try {
        const N = 60;
        // Both kick as rows come: each enqueue starts A's worker, B is kicked alongside.
        await Promise.all(
          Array.from({ length: N }, async (_, n) => {
            await a.app.get(Outbox).enqueue('mail', resetMail(a, `user${n}@example.com`, `p${n}`));
            b.app.get(Outbox).kick();
          }),
        );
        a.app.get(Outbox).kick();
        b.app.get(Outbox).kick();
        await Promise.all([a.app.get(Outbox).idle(), b.app.get(Outbox).idle()]);
        const subjects = smtp.messages.map((m) => m.subject);
        expect(subjects).toHaveLength(N);
        expect(new Set(subjects).size).toBe(N);
        expect((await rows(a)).filter((row) => row.sentAt === null)).toEqual([]);
      } finally {
        await a.close();
        await b.close();
        await db.drop();
      }
    });
  });
});
