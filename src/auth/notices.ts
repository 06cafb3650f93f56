import { Injectable } from '@nestjs/common';
import type { Transaction } from '../common/database/transactions';
import { composeMail } from '../mail/compose';
import type { MailMessage } from '../mail/mail-message';
import { Links } from '../mail/links';
import { Mailer } from '../mail/mailer';
import { Outbox } from '../mail/outbox.service';
import type { Session } from '../sessions/session.entity';
import type { User } from '../users/user.entity';

type Account = Pick<User, 'name' | 'email'>;

/** Region names in English ("DE" → "Germany"); an unknown code is shown as it is. */
const REGIONS = new Intl.DisplayNames(['en'], { type: 'region' });

/** "Firefox on Windows (desktop)", "an unknown browser on Android (mobile)", "an unknown device". */
export function deviceInWords(session: Pick<Session, 'deviceBrowser' | 'deviceOs' | 'deviceType'>): string {
  const { deviceBrowser: browser, deviceOs: os, deviceType: type } = session;
  if (!browser && !os) return 'an unknown device';
  const words = `${browser ?? 'an unknown browser'} on ${os ?? 'an unknown system'}`;
  return type ? `${words} (${type})` : words;
}

export function countryInWords(code: string | null): string {
  if (!code) return 'an unknown country';
  try {
    return REGIONS.of(code) ?? code;
  } catch {
    return code;
  }
}

/** Times in mail: UTC, to the minute, unambiguous in any locale ("2026-12-06 09:30 UTC"). */
export function timeInWords(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const NOT_YOU = 'If this was not you, change your password at once and end the sessions you do not recognise.';

/**
 * The notices the account's owner gets about changes to it (ASVS V6.2.x / V7.4.3 "notify the user"):
 * each is queued in the transaction of the change it reports (Outbox.enqueue), so it is sent if and
 * only if the change committed. They carry no token and no secret: only what happened, when, from
 * what device, and a link to the dashboard where the sessions can be ended.
 *
 * Without a way to send mail (production without MAIL_URL) nothing is queued: a notice is news only
 * while it is fresh, and rows no one will send would pile up with the owners' addresses in them.
 */
@Injectable()
export class Notices {
  constructor(
    private readonly outbox: Outbox,
    private readonly links: Links,
    private readonly mailer: Mailer,
  ) {}

  private async queue(message: MailMessage, tx: Transaction): Promise<void> {
    if (this.mailer.available) await this.outbox.enqueue('mail', message, tx);
  }

  /** The password was changed (`changed`, from a signed-in session) or reset through a mail link (`reset`). */
  passwordChanged(account: Account, how: 'changed' | 'reset', at: Date, tx: Transaction): Promise<void> {
    const what =
      how === 'reset'
        ? 'The password of your account was reset with a link sent to this address'
        : 'The password of your account was changed';
    return this.queue(
      composeMail({
        to: account.email,
        name: account.name,
        subject: 'Your password was changed',
        paragraphs: [
          `${what}, on ${timeInWords(at)}. ${how === 'reset' ? 'Every session' : 'Every other session'} of the account has ended.`,
          'If you did this, there is nothing more to do.',
        ],
        action: { label: 'Review your sessions', url: this.links.to('/userpage') },
        footer: [
          'If this was not you, reset your password from the sign-in page ("Forgot password?") at once: someone else knows it or can read your mail.',
        ],
      }),
      tx,
    );
  }

  /** A sign-in marked new_device: the device in words, the country, the time, a link to the dashboard. */
  newDevice(
    account: Account,
    session: Pick<Session, 'deviceBrowser' | 'deviceOs' | 'deviceType' | 'country' | 'loginTime'>,
    tx: Transaction,
  ): Promise<void> {
    return this.queue(
      composeMail({
        to: account.email,
        name: account.name,
        subject: 'New sign-in to your account',
        paragraphs: [
          `Someone signed in to your account from ${deviceInWords(session)} in ${countryInWords(session.country)}, on ${timeInWords(session.loginTime)}.`,
          'Your account had not been signed in to from this kind of device, or from this country, before. If this was you, there is nothing to do.',
        ],
        action: { label: 'Review your sessions', url: this.links.to('/userpage') },
        footer: [NOT_YOU],
      }),
      tx,
    );
  }

  /** Sent to the current address when a change to `newEmail` is asked for (the change waits for the link sent there). */
  emailChangeRequested(account: Account, newEmail: string, at: Date, tx: Transaction): Promise<void> {
    return this.queue(
      composeMail({
        to: account.email,
        name: account.name,
        subject: 'A change of your e-mail address was asked for',
        paragraphs: [
          `On ${timeInWords(at)}, someone signed in to your account asked to change its e-mail address to ${newEmail}.`,
          'Nothing changes until the link sent to that address is used. If this was you, there is nothing more to do here.',
        ],
        action: { label: 'Review your sessions', url: this.links.to('/userpage') },
        footer: [NOT_YOU],
      }),
      tx,
    );
  }
}
