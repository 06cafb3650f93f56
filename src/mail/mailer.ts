import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { createTransport, type Transporter } from 'nodemailer';
import { Clock } from '../common/clock';
import { appConfig, type AppConfig } from '../config/app.config';
import type { MailMessage } from './mail-message';

/** Where mail goes: an SMTP server (MAIL_URL), the development outbox folder, or nowhere. */
export type MailMode = 'smtp' | 'folder' | 'none';

/**
 * A send that failed for good: the server refused the message itself (a 5xx answer, e.g. an unknown
 * recipient). Retrying would get the same answer, so the outbox gives up on it at once.
 */
export function isPermanentMailError(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/**
 * Sends one mail, in text and HTML. Only the outbox calls it (mail is never sent from a request:
 * see outbox.service.ts), so a slow or absent SMTP server never holds up an answer.
 *
 * With MAIL_URL, over SMTP (nodemailer, one connection per message; the timeouts keep a send well
 * inside the outbox's claim on the row). Without it outside production, the message is written as
 * an .eml file (and its text part as a .txt beside it) to MAIL_OUTBOX_DIR and its text to the log, so every flow works on a fresh machine:
 * that log line holds the links, and so the tokens, which is acceptable only because a server
 * without MAIL_URL is a developer's. In production without MAIL_URL, `available` is false: the
 * mail routes answer 503, and the start says why.
 */
@Injectable()
export class Mailer implements OnApplicationBootstrap, OnModuleDestroy {
  readonly mode: MailMode;
  private readonly transport: Transporter | null;
  /** The full folder path (MAIL_OUTBOX_DIR may be relative). */
  private readonly folder: string;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('Mail');
    this.mode = config.mail.url ? 'smtp' : config.nodeEnv === 'production' ? 'none' : 'folder';
    this.folder = resolve(config.mail.outboxDir);
    this.transport = config.mail.url
      ? createTransport({
          url: config.mail.url,
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 20_000,
        })
      : null;
  }

  /** Whether mail can be sent at all; the mail routes answer 503 when it cannot. */
  get available(): boolean {
    return this.mode !== 'none';
  }

  onApplicationBootstrap(): void {
    if (this.mode === 'none') {
      this.logger.warn(
        { event: 'mail_unavailable' },
        'MAIL_URL is not set: no mail is sent, and password reset, e-mail verification and e-mail change answer 503',
      );
    }
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }

  /** Sends the message; throws when it was not accepted (the outbox retries). */
  async send(message: MailMessage): Promise<void> {
    const mail = { from: this.config.mail.from, ...message };
    if (this.transport) {
      await this.transport.sendMail(mail);
      return;
    }
    if (this.mode === 'none') throw new Error('MAIL_URL is not set');
    // The same MIME message SMTP would carry, built by nodemailer, written to a file.
    const built = await createTransport({ streamTransport: true, buffer: true }).sendMail(mail);
    const base = join(this.folder, `${this.clock.now().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}`);
    const file = `${base}.eml`;
    await mkdir(this.folder, { recursive: true });
    // The .txt beside it is the text part as written (in the .eml, quoted-printable breaks long
    // links), so a developer can read or grep a link: the README's walk-through does.
    await writeFile(`${base}.txt`, `To: ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n`);
    await writeFile(file, built.message as Buffer);
    this.logger.info(
      { event: 'mail_written', to: message.to, subject: message.subject, file },
      `mail to ${message.to} (no MAIL_URL: written to ${file}, not sent): ${message.subject}\n${message.text}`,
    );
  }
}
