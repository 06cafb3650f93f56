import type { Transaction } from '../common/database/transactions';
import type { Links } from '../mail/links';
import type { MailMessage } from '../mail/mail-message';
import type { Mailer } from '../mail/mailer';
import type { Outbox } from '../mail/outbox.service';
import { countryInWords, deviceInWords, Notices, timeInWords } from './notices';

const device = (deviceBrowser: string | null, deviceOs: string | null, deviceType: string | null) => ({
  deviceBrowser,
  deviceOs,
  deviceType,
});

describe('deviceInWords', () => {
  it.each([
    [device('Firefox', 'Windows', 'desktop'), 'Firefox on Windows (desktop)'],
    [device('Mobile Safari', 'iOS', 'mobile'), 'Mobile Safari on iOS (mobile)'],
    [device('Chrome', 'Linux', null), 'Chrome on Linux'],
    [device(null, 'Android', 'mobile'), 'an unknown browser on Android (mobile)'],
    [device('Chrome', null, null), 'Chrome on an unknown system'],
    [device(null, null, null), 'an unknown device'],
    // A type alone says too little to name a device.
    [device(null, null, 'mobile'), 'an unknown device'],
  ])('%j → %s', (session, words) => {
    expect(deviceInWords(session)).toBe(words);
  });
});

describe('countryInWords', () => {
  it.each([
    ['DE', 'Germany'],
    ['US', 'United States'],
    ['AU', 'Australia'],
    [null, 'an unknown country'],
    ['', 'an unknown country'],
  ])('%s → %s', (code, words) => {
    expect(countryInWords(code)).toBe(words);
  });

  it('shows a code it cannot name as it is, and never throws', () => {
    // Well-formed but assigned to no region.
    expect(countryInWords('QZ')).toBe('QZ');
    // Not a region code at all (Intl.DisplayNames throws a RangeError).
    expect(countryInWords('not a code')).toBe('not a code');
  });
});

describe('timeInWords', () => {
  it('writes UTC, to the minute, the same in every locale and time zone', () => {
    expect(timeInWords(new Date('2026-12-06T09:30:59.999Z'))).toBe('2026-12-06 09:30 UTC');
    expect(timeInWords(new Date('2027-01-01T00:00:00+02:00'))).toBe('2026-12-31 22:00 UTC');
  });
});

describe('Notices', () => {
  const tx = {} as Transaction;
  const links = { to: (path: string) => `https://sessions.example${path}` } as Links;
  const account = { name: 'Eve <img src=x onerror=alert(1)>', email: 'eve@example.com' };
  const hostileSession = {
    // What no parser gives today, in case one ever does: the words are escaped like any value.
    deviceBrowser: '<script>alert(1)</script>',
    deviceOs: '"><svg onload=alert(2)>',
    deviceType: 'mobile',
    country: 'FR',
    loginTime: new Date('2026-12-06T09:30:00Z'),
  };

  function notices(available = true) {
    const queued: Array<{ kind: string; message: MailMessage; tx: unknown }> = [];
    const outbox = {
      enqueue: (kind: string, message: MailMessage, inTx: unknown) => {
        queued.push({ kind, message, tx: inTx });
        return Promise.resolve();
      },
    } as unknown as Outbox;
    return { queued, notices: new Notices(outbox, links, { available } as Mailer) };
  }

  it('queues a new-device notice in the given transaction, every value escaped in the HTML', async () => {
    const { queued, notices: n } = notices();
    await n.newDevice(account, hostileSession, tx);
    expect(queued).toHaveLength(1);
    const [{ kind, message, tx: inTx }] = queued;
    expect(kind).toBe('mail');
    expect(inTx).toBe(tx);
    expect(message.to).toBe('eve@example.com');
    expect(message.text).toContain(
      'from <script>alert(1)</script> on "><svg onload=alert(2)> (mobile) in France, on 2026-12-06 09:30 UTC.',
    );
    expect(message.html).not.toMatch(/<script|<svg|<img/);
    expect(message.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; on &quot;&gt;&lt;svg onload=alert(2)&gt;');
    expect(message.html).toContain('Hello Eve &lt;img src=x onerror=alert(1)&gt;,');
    expect(message.html).toContain('href="https://sessions.example/userpage"');
  });

  it('says what ended: every other session after a change, every session after a reset', async () => {
    const { queued, notices: n } = notices();
    const at = new Date('2026-12-06T09:30:00Z');
    await n.passwordChanged(account, 'changed', at, tx);
    await n.passwordChanged(account, 'reset', at, tx);
    const [changed, reset] = queued.map((q) => q.message.text);
    expect(changed).toContain('The password of your account was changed, on 2026-12-06 09:30 UTC.');
    expect(changed).toContain('Every other session of the account has ended.');
    expect(reset).toContain('reset with a link sent to this address, on 2026-12-06 09:30 UTC.');
    expect(reset).toContain('Every session of the account has ended.');
  });

  it('queues nothing when no mail can be sent (production without MAIL_URL)', async () => {
    const { queued, notices: n } = notices(false);
    await n.newDevice(account, hostileSession, tx);
    await n.passwordChanged(account, 'changed', new Date(), tx);
    await n.emailChangeRequested(account, 'new@example.com', new Date(), tx);
    expect(queued).toEqual([]);
  });
});
