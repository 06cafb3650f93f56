import { Injectable } from '@nestjs/common';
import type { Transaction } from '../common/database/transactions';
import { composeMail } from '../mail/compose';
import { Links } from '../mail/links';
import { Mailer } from '../mail/mailer';
import { Outbox } from '../mail/outbox.service';
import type { User } from '../users/user.entity';
import type { Passkey } from './passkey.entity';

type Account = Pick<User, 'name' | 'email'>;

function timeInWords(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The notices of a passkey added to or removed from the account (ASVS V6.3.7-style "notify the user
 * of changes to authentication factors"), queued in the change's transaction like auth's Notices
 * (the factors folder cannot import auth): sent if and only if the change committed, no secret in
 * them, and nothing queued without a way to send mail.
 */
@Injectable()
export class PasskeyNotices {
  constructor(
    private readonly outbox: Outbox,
    private readonly links: Links,
    private readonly mailer: Mailer,
  ) {}

  added(account: Account, passkey: Pick<Passkey, 'name' | 'createdAt'>, tx: Transaction): Promise<void> {
    return this.send(
      account,
      'A passkey was added to your account',
      `A passkey named "${passkey.name}" was added to your account on ${timeInWords(passkey.createdAt)}. It can now sign in to the account without the password.`,
      tx,
    );
  }

  removed(account: Account, passkey: Pick<Passkey, 'name'>, at: Date, tx: Transaction): Promise<void> {
    return this.send(
      account,
      'A passkey was removed from your account',
      `The passkey named "${passkey.name}" was removed from your account on ${timeInWords(at)}. It can no longer sign in.`,
      tx,
    );
  }

  private async send(account: Account, subject: string, what: string, tx: Transaction): Promise<void> {
    if (!this.mailer.available) return;
    await this.outbox.enqueue(
      'mail',
      composeMail({
        to: account.email,
        name: account.name,
        subject,
        paragraphs: [what, 'If you did this, there is nothing more to do.'],
        action: { label: 'Review your passkeys and sessions', url: this.links.to('/userpage') },
        footer: [
          'If this was not you, someone is signed in to your account: change your password, remove the passkeys you do not recognise and end the sessions you do not recognise.',
        ],
      }),
      tx,
    );
  }
}
