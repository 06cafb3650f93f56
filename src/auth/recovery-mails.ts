import { Injectable } from '@nestjs/common';
import type { Transaction } from '../common/database/transactions';
import { composeMail } from '../mail/compose';
import { Links } from '../mail/links';
import { Outbox } from '../mail/outbox.service';
import type { User } from '../users/user.entity';
import { EmailTokens } from './email-tokens.service';
import { timeInWords } from './notices';

type Account = Pick<User, 'id' | 'name' | 'email' | 'credentialVersion'>;

/** "30 minutes", "3 days", "1 hour". */
function durationInWords(seconds: number): string {
  const units: Array<[number, string]> = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units)
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${name}${seconds === size ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/**
 * The mails that carry a link with a token: each issues the token (EmailTokens.issue, making older
 * links of its purpose void) and queues the mail in the same transaction, so the link exists if and
 * only if the change that asked for it committed. Links point at the pages (PUBLIC_URL only, never
 * the request's Host); the pages post the token to the API, so a link that is only fetched (a mail
 * scanner) spends nothing.
 */
@Injectable()
export class RecoveryMails {
  constructor(
    private readonly tokens: EmailTokens,
    private readonly outbox: Outbox,
    private readonly links: Links,
  ) {}

  /** A password-reset link to the account's address. */
  async passwordReset(account: Account, at: Date, tx: Transaction): Promise<void> {
    const token = await this.tokens.issue(account, 'reset_password', account.email, tx);
    const valid = durationInWords(this.tokens.lifetime('reset_password'));
    await this.outbox.enqueue(
      'mail',
      composeMail({
        to: account.email,
        name: account.name,
        subject: 'Reset your password',
        paragraphs: [
          `Someone (we hope you) asked on ${timeInWords(at)} to reset the password of the account with this address.`,
          `The link below lets you choose a new one. It works once, for ${valid}; asking again makes it invalid.`,
        ],
        action: { label: 'Choose a new password', url: this.links.to('/reset_password_page', { token }) },
        footer: ['If you did not ask for this, ignore this mail: your password stays as it is.'],
      }),
      tx,
    );
  }

  /** A link that confirms the account's current address (at signup, or asked for again). */
  async verification(account: Account, tx: Transaction): Promise<void> {
    const token = await this.tokens.issue(account, 'verify_email', account.email, tx);
    const valid = durationInWords(this.tokens.lifetime('verify_email'));
    await this.outbox.enqueue(
      'mail',
      composeMail({
        to: account.email,
        name: account.name,
        subject: 'Confirm your e-mail address',
        paragraphs: [
          'Please confirm that this address is yours by opening the link below.',
          `It works once, for ${valid}.`,
        ],
        action: { label: 'Confirm my address', url: this.links.to('/verify_email_page', { token }) },
        footer: ['If you did not create an account, ignore this mail.'],
      }),
      tx,
    );
  }

  /** A link to the new address that makes it the account's, once used. */
  async emailChange(account: Account, newEmail: string, tx: Transaction): Promise<void> {
    const token = await this.tokens.issue(account, 'change_email', newEmail, tx);
    const valid = durationInWords(this.tokens.lifetime('change_email'));
    await this.outbox.enqueue(
      'mail',
      composeMail({
        to: newEmail,
        name: account.name,
        subject: 'Confirm your new e-mail address',
        paragraphs: [
          'You asked to use this address for your account. Open the link below to confirm it; until then, nothing changes.',
          `It works once, for ${valid}. Using it signs out your other devices.`,
        ],
        action: { label: 'Confirm my new address', url: this.links.to('/verify_email_page', { token }) },
        footer: ['If you did not ask for this, ignore this mail: the account stays with its current address.'],
      }),
      tx,
    );
  }
}
