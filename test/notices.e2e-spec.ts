import { Logger } from '@nestjs/common';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import { LoginAttemptsService } from '../src/auth/login-attempts.service';
import { timeInWords } from '../src/auth/notices';
import { PasswordHasher } from '../src/auth/password-hasher.service';
import { OutboxEntry } from '../src/mail/outbox.entity';
import { Outbox, retryDelaySeconds } from '../src/mail/outbox.service';
import { Session } from '../src/sessions/session.entity';
import { startSmtp, type TestSmtp } from './utils/smtp';
import { createTestApp, login, sessionSetCookie, signup, type TestApp, type TestUser } from './utils/test-app';

const PUBLIC_URL = 'https://sessions.example.test';
const DASHBOARD = `${PUBLIC_URL}/userpage`;
const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
/** Markup in every part of the header ua-parser reads past: it still names the browser and system. */
const HOSTILE_UA =
  'Mozilla/5.0 (Linux; Android 10; <script>alert(1)</script>) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Chrome/120.0.0.0 Mobile Safari/537.36 "><img src=x onerror=alert(2)>';
const EVIL = 'evil.example';
/** 8.8.8.8 is in the United States and 1.1.1.1 in Australia in the offline database (test/devices.e2e-spec.ts). */
const US = '8.8.8.8';
const AU = '1.1.1.1';

/** Every URL written in a mail's text or HTML part. */
function urlsIn(mail: ParsedMail): string[] {
  const parts = `${mail.text ?? ''}\n${typeof mail.html === 'string' ? mail.html : ''}`;
  return parts.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
}

function recipient(mail: ParsedMail): string | undefined {
  return mail.to && !Array.isArray(mail.to) ? mail.to.text : undefined;
}

describe('Notices by mail', () => {
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

  /** Waits until no delivery pass runs: every mail the requests so far queued has been tried. */
  const settled = (t: TestApp) => t.app.get(Outbox).idle();
  const mailsTo = (user: TestUser) => smtp.messages.filter((m) => recipient(m) === user.email);
  const outboxRows = (t: TestApp) => t.dataSource.getRepository(OutboxEntry).count();

  function loginFrom(t: TestApp, user: TestUser, ip: string, userAgent: string) {
    return request(t.http)
      .post('/login')
      .set('X-Forwarded-For', ip)
      .set('User-Agent', userAgent)
      .send({ email: user.email, password: user.password });
  }

  describe('behind a trusted proxy, with GEOIP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL, GEOIP: 'true', TRUST_PROXY: 'loopback' });
    });
    afterAll(() => t?.close());

    it('a sign-in from a new device mails the owner: the device in words, the country, the time, a dashboard link', async () => {
      const user = await signup(t.http, { name: 'Ada Lovelace' });
      // The first sign-in ever: nothing to compare with, no mail.
      expect((await loginFrom(t, user, US, CHROME_WINDOWS).expect(200)).body.session.new_device).toBe(false);
      // The same browser, system and country again: known, no mail.
      expect((await loginFrom(t, user, '8.8.4.4', CHROME_WINDOWS).expect(200)).body.session.new_device).toBe(false);
      await settled(t);
      expect(mailsTo(user)).toEqual([]);

      t.clock.advance(3600);
      const at = timeInWords(t.clock.now());
      const res = await loginFrom(t, user, AU, FIREFOX_LINUX).expect(200);
      expect(res.body.session).toMatchObject({ new_device: true, location: { country: 'AU' } });
      await settled(t);

      const mails = mailsTo(user);
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      expect(mail.subject).toBe('New sign-in to your account');
      for (const part of [mail.text!, mail.html as string]) {
        expect(part).toContain('Hello Ada Lovelace,');
        expect(part).toContain('Firefox on Linux (desktop)');
        expect(part).toContain('Australia');
        expect(part).toContain(at);
      }
      expect(mail.text).toContain(`Review your sessions: ${DASHBOARD}`);
      expect(mail.html).toContain(`href="${DASHBOARD}"`);
      expect(urlsIn(mail).length).toBeGreaterThan(0);
      for (const url of urlsIn(mail)) expect(url.startsWith(`${PUBLIC_URL}/`)).toBe(true);
      // No secret: neither the new session's token nor the password.
      const token = /session_token=([^;]+)/.exec(String(res.headers['set-cookie']))![1];
      for (const part of [mail.text!, mail.html as string]) {
        expect(part).not.toContain(token);
        expect(part).not.toContain(user.password);
      }

      // The same new device again: known now, no second mail.
      await loginFrom(t, user, AU, FIREFOX_LINUX).expect(200);
      await settled(t);
      expect(mailsTo(user)).toHaveLength(1);
    });

    it.each([
      ['Host', { Host: EVIL }],
      ['X-Forwarded-Host', { 'X-Forwarded-Host': EVIL }],
      [
        'Host and X-Forwarded-Host, with X-Forwarded-Proto',
        { Host: EVIL, 'X-Forwarded-Host': EVIL, 'X-Forwarded-Proto': 'http' },
      ],
    ])('a forged %s on the login never reaches the link (TRUST_PROXY on)', async (_label, headers) => {
      const user = await signup(t.http);
      await loginFrom(t, user, US, CHROME_WINDOWS).expect(200);
      await loginFrom(t, user, AU, FIREFOX_LINUX).set(headers).expect(200);
      await settled(t);
      const [mail] = mailsTo(user);
      expect(mail).toBeDefined();
      expect(`${mail.text}${mail.html}`).not.toContain(EVIL);
      for (const url of urlsIn(mail)) expect(url.startsWith(`${PUBLIC_URL}/`)).toBe(true);
    });

    it('the HTML part escapes a hostile account name and what a hostile user agent carries', async () => {
      const user = await signup(t.http, { name: '<script>alert("name")</script> & <b>Bob</b>' });
      await loginFrom(t, user, US, CHROME_WINDOWS).expect(200);
      const res = await loginFrom(t, user, US, HOSTILE_UA).expect(200);
      expect(res.body.session.device).toEqual({ browser: 'Chrome', os: 'Android', type: 'mobile' });
      await settled(t);
      const [mail] = mailsTo(user);
      const html = mail.html as string;
      expect(html).toContain(
        'Hello &lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; &amp; &lt;b&gt;Bob&lt;/b&gt;,',
      );
      expect(html).toContain('Chrome on Android (mobile)');
      // No markup of the server's own but its layout: nothing from the name or the user agent.
      expect(html).not.toMatch(/<script|<img|<b>|onerror/i);
      expect(html.match(/<[a-z]+/gi)!.map((tag) => tag.toLowerCase())).toEqual(
        expect.not.arrayContaining(['<script', '<img', '<b']),
      );
      // The text part has the name as it is (a text part is not markup).
      expect(mail.text).toContain('Hello <script>alert("name")</script> & <b>Bob</b>,');
    });

    it('a login that fails once its session was written, and rolls back, mails nothing', async () => {
      const user = await signup(t.http);
      await loginFrom(t, user, US, CHROME_WINDOWS).expect(200);
      const rowsBefore = await outboxRows(t);
      // The attempt is the last write of the login's transaction, after the session and the notice.
      const attempts = t.app.get(LoginAttemptsService);
      const record = attempts.record.bind(attempts);
      const spy = jest
        .spyOn(attempts, 'record')
        .mockImplementation((attempt, tx) =>
          attempt.reason === 'ok' ? Promise.reject(new Error('the disk is full')) : record(attempt, tx),
        );
      // The 500 is logged by the exception filter; kept out of the test's output.
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        await loginFrom(t, user, AU, FIREFOX_LINUX).expect(500);
        expect(logged).toHaveBeenCalledWith('Unhandled error: Error', expect.any(String));
      } finally {
        spy.mockRestore();
        logged.mockRestore();
      }
      await settled(t);
      expect(mailsTo(user)).toEqual([]);
      expect(await outboxRows(t)).toBe(rowsBefore);
      expect(await t.dataSource.getRepository(Session).countBy({ userId: user.id })).toBe(1);

      // Signing in again from that device works, and mails the notice then.
      await loginFrom(t, user, AU, FIREFOX_LINUX).expect(200);
      await settled(t);
      expect(mailsTo(user).map((m) => m.subject)).toEqual(['New sign-in to your account']);
    });

    it('an SMTP outage never fails the login; the mail comes once the server is back', async () => {
      const user = await signup(t.http);
      await loginFrom(t, user, US, CHROME_WINDOWS).expect(200);
      await smtp.stop();
      try {
        const res = await loginFrom(t, user, AU, FIREFOX_LINUX).expect(200);
        expect(res.body.session.new_device).toBe(true);
        expect(JSON.stringify(res.body)).not.toMatch(/smtp|outbox|ECONNREFUSED/i);
        await settled(t);
        expect(mailsTo(user)).toEqual([]);
      } finally {
        await smtp.start();
      }
      t.clock.advance(retryDelaySeconds(1) + 1);
      t.app.get(Outbox).kick();
      await settled(t);
      expect(mailsTo(user).map((m) => m.subject)).toEqual(['New sign-in to your account']);
    });

    describe('POST /change_password', () => {
      it('mails the notice, in text and HTML, linking to the dashboard', async () => {
        const user = await signup(t.http, { name: 'Grace' });
        const { cookie } = await login(t.http, user);
        const at = timeInWords(t.clock.now());
        await request(t.http)
          .post('/change_password')
          .set('Cookie', cookie)
          .send({ current_password: user.password, new_password: 'a brand new password' })
          .expect(200);
        await settled(t);
        const mails = mailsTo(user);
        expect(mails.map((m) => m.subject)).toEqual(['Your password was changed']);
        const [mail] = mails;
        for (const part of [mail.text!, mail.html as string]) {
          expect(part).toContain('Hello Grace,');
          expect(part).toContain(`The password of your account was changed, on ${at}.`);
          expect(part).toContain('Every other session of the account has ended.');
          expect(part).not.toContain('a brand new password');
          expect(part).not.toContain(user.password);
        }
        expect(mail.text).toContain(`Review your sessions: ${DASHBOARD}`);
        expect(mail.html).toContain(`href="${DASHBOARD}"`);
        for (const url of urlsIn(mail)) expect(url.startsWith(`${PUBLIC_URL}/`)).toBe(true);
      });

      it('a wrong current password mails nothing', async () => {
        const user = await signup(t.http);
        const { cookie } = await login(t.http, user);
        await request(t.http)
          .post('/change_password')
          .set('Cookie', cookie)
          .send({ current_password: 'not the password', new_password: 'a brand new password' })
          .expect(401);
        await settled(t);
        expect(mailsTo(user)).toEqual([]);
      });

      it('of two changes racing from one session, the one that gets 409 mails nothing', async () => {
        const user = await signup(t.http);
        const { cookie } = await login(t.http, user);
        // The first change is held while its current password is checked; the second goes through.
        const hasher = t.app.get(PasswordHasher);
        const check = hasher.check.bind(hasher);
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let reached!: () => void;
        const held = new Promise<void>((resolve) => (reached = resolve));
        const spy = jest.spyOn(hasher, 'check').mockImplementationOnce(async (...args) => {
          reached();
          await released;
          return check(...args);
        });
        try {
          const first = request(t.http)
            .post('/change_password')
            .set('Cookie', cookie)
            .send({ current_password: user.password, new_password: 'the first new password' })
            .then((r) => r);
          await held;
          await request(t.http)
            .post('/change_password')
            .set('Cookie', cookie)
            .send({ current_password: user.password, new_password: 'the second new password' })
            .expect(200);
          release();
          expect((await first).status).toBe(409);
        } finally {
          spy.mockRestore();
        }
        await settled(t);
        expect(mailsTo(user).map((m) => m.subject)).toEqual(['Your password was changed']);
      });
    });
  });

  describe('without a trusted proxy', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL });
    });
    afterAll(() => t?.close());

    it('a forged Host and X-Forwarded-Host never reach the link; with no country known, the mail says so', async () => {
      const user = await signup(t.http);
      await login(t.http, user, CHROME_WINDOWS);
      const res = await request(t.http)
        .post('/login')
        .set('Host', EVIL)
        .set('X-Forwarded-Host', EVIL)
        .set('User-Agent', FIREFOX_LINUX)
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(res.body.session.new_device).toBe(true);
      await settled(t);
      const [mail] = mailsTo(user);
      expect(mail.text).toContain('Firefox on Linux (desktop) in an unknown country');
      expect(`${mail.text}${mail.html}`).not.toContain(EVIL);
      for (const url of urlsIn(mail)) expect(url.startsWith(`${PUBLIC_URL}/`)).toBe(true);
    });
  });

  describe('with NOTIFY_NEW_DEVICE=false', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL, NOTIFY_NEW_DEVICE: 'false' });
    });
    afterAll(() => t?.close());

    it('a new-device sign-in is still flagged, but mails nothing; a password change still mails', async () => {
      const user = await signup(t.http);
      await login(t.http, user, CHROME_WINDOWS);
      const { body, cookie } = await login(t.http, user, FIREFOX_LINUX);
      expect(body.session.new_device).toBe(true);
      await settled(t);
      expect(mailsTo(user)).toEqual([]);
      expect(await outboxRows(t)).toBe(0);

      await request(t.http)
        .post('/change_password')
        .set('Cookie', cookie)
        .send({ current_password: user.password, new_password: 'a brand new password' })
        .expect(200);
      await settled(t);
      expect(mailsTo(user).map((m) => m.subject)).toEqual(['Your password was changed']);
    });
  });

  it('in production without MAIL_URL, queues no notice (no one would send it)', async () => {
    const t = await createTestApp({ NODE_ENV: 'production', PUBLIC_URL });
    try {
      const user = await signup(t.http);
      const signIn = (userAgent: string) =>
        request(t.http)
          .post('/login')
          .set('User-Agent', userAgent)
          .send({ email: user.email, password: user.password })
          .expect(200);
      await signIn(CHROME_WINDOWS);
      const res = await signIn(FIREFOX_LINUX);
      expect(res.body.session.new_device).toBe(true);
      // Production's cookie is __Host-session_token.
      const cookie = sessionSetCookie(res.headers['set-cookie']).split(';')[0];
      await request(t.http)
        .post('/change_password')
        .set('Cookie', cookie)
        .send({ current_password: user.password, new_password: 'a brand new password' })
        .expect(200);
      expect(await outboxRows(t)).toBe(0);
    } finally {
      await t.close();
    }
  });
});
