import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { RecoveryService } from '../../src/auth/recovery.service';
import { Outbox } from '../../src/mail/outbox.service';
import type { TestApp } from './test-app';

export interface FolderMail {
  to: string;
  subject: string;
  text: string;
}

/**
 * The mails a test app without MAIL_URL wrote to its MAIL_OUTBOX_DIR (after the work deferred past
 * responses and the outbox have settled), oldest first, parsed as a mail client would.
 */
export async function mailsInFolder(t: TestApp): Promise<FolderMail[]> {
  await t.app.get(RecoveryService).idle();
  await t.app.get(Outbox).idle();
  const dir = t.config.mail.outboxDir;
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml')).sort();
  const mails: FolderMail[] = [];
  for (const file of files) {
    const parsed = await simpleParser(await readFile(join(dir, file)));
    mails.push({
      to: (parsed.to as AddressObject | undefined)?.value[0]?.address ?? '',
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
    });
  }
  return mails;
}

/** The token of the newest link to `page` mailed to `to`. */
export async function mailedToken(t: TestApp, to: string, page: string): Promise<string> {
  const mails = (await mailsInFolder(t)).filter((m) => m.to === to && m.text.includes(`${page}?token=`));
  const token = new RegExp(`${page}\\?token=([A-Za-z0-9_-]+)`).exec(mails.at(-1)?.text ?? '')?.[1];
  if (!token) throw new Error(`no ${page} link mailed to ${to}`);
  return token;
}
