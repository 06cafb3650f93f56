import { Injectable } from '@nestjs/common';
import type { Transaction } from '../common/database/transactions';
import { composeMail } from '../mail/compose';
import type { MailMessage } from '../mail/mail-message';
import { Links } from '../mail/links';
import { Mailer } from '../mail/mailer';
import { Outbox } from '../mail/outbox.service';
import type { User } from '../users/user.entity';

type Account = Pick<User, 'name' | 'email'>;

/** "2026-12-06 09:30 UTC", as auth's notices write times. */
function timeInWords(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const NOT_YOU =
  'If this was not you, someone is signed in to your account: change your password at once and end the sessions you do not recognise.';

/**
 * The notices about an account's authenticator app and recovery codes (ASVS V6.3.7, V7.4.3): each
 * queued in the transaction of the change it reports, so sent if and only if the change committed.
 * No code, secret or token in them. As auth's Notices (which factors cannot import), nothing is
 * queued when the server cannot send mail.
 */
@Injectable()
export class TotpNotices {
  constructor(
    private readonly outbox: Outbox,
    private readonly links: Links,
    private readonly mailer: Mailer,
  ) {}

  private async queue(message: MailMessage, tx: Transaction): Promise<void> {
    if (this.mailer.available) await this.outbox.enqueue('mail', message, tx);
  }

  private notice(account: Account, subject: string, paragraphs: string[], tx: Transaction): Promise<void> {
    return this.queue(
      composeMail({
        to: account.email,
        name: account.name,
        subject,
        paragraphs: [...paragraphs, 'If you did this, there is nothing more to do.'],
        action: { label: 'Review your sessions', url: this.links.to('/userpage') },
        footer: [NOT_YOU],
      }),
      tx,
    );
  }

  turnedOn(account: Account, at: Date, tx: Transaction): Promise<void> {
    return this.notice(
      account,
      'An authenticator app now protects your account',
      [
        `An authenticator app was set up for your account on ${timeInWords(at)}: signing in now takes a code from it after the password.`,
        'Keep your recovery codes somewhere safe: each one signs you in once if you lose the app.',
      ],
      tx,
    );
  }

  turnedOff(account: Account, at: Date, tx: Transaction): Promise<void> {
    return this.notice(
      account,
      'The authenticator app was removed from your account',
      [
        `The authenticator app of your account was turned off on ${timeInWords(at)}, and its recovery codes deleted: signing in takes the password alone again.`,
      ],
      tx,
    );
  }

  newRecoveryCodes(account: Account, at: Date, tx: Transaction): Promise<void> {
    return this.notice(
      account,
      'New recovery codes for your account',
      [`New recovery codes were made for your account on ${timeInWords(at)}; the earlier ones no longer work.`],
      tx,
    );
  }

  recoveryCodeUsed(account: Account, at: Date, left: number, tx: Transaction): Promise<void> {
    return this.notice(
      account,
      'A recovery code was used to sign in to your account',
      [
        `Someone signed in to your account with the password and a recovery code instead of the authenticator app, on ${timeInWords(at)}.`,
        `That code no longer works; ${left} of your recovery codes ${left === 1 ? 'is' : 'are'} left. Make new ones from your dashboard when few are left.`,
      ],
      tx,
    );
  }
}
