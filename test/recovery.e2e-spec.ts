import type { AddressObject, ParsedMail } from 'mailparser';
import request from 'supertest';
import { EmailToken } from '../src/auth/email-token.entity';
import { INVALID_LINK, MAIL_UNAVAILABLE, RecoveryService, RESET_REQUESTED } from '../src/auth/recovery.service';
import { CleanupService } from '../src/cleanup/cleanup.service';
import { Outbox } from '../src/mail/outbox.service';
import { User } from '../src/users/user.entity';
import { UsersService } from '../src/users/users.service';
import { startSmtp, type TestSmtp } from './utils/smtp';
import { createTestApp, login, signup, TEST_SECRET, type TestApp, type TestUser } from './utils/test-app';

const PUBLIC_URL = 'https://sessions.example.test';
const NEW_PASSWORD = 'a brand new passphrase';

/** Waits for the work answered ahead of (forgot password, resend) and for the outbox to deliver. */
async function settle(t: TestApp): Promise<void> {
  await t.app.get(RecoveryService).idle();
  await t.app.get(Outbox).idle();
}

function recipient(mail: ParsedMail): string {
  const to = mail.to as AddressObject | undefined;
  return to?.value[0]?.address ?? '';
}

/**
 * The token of the link to `page` in a mail, read from the text part and from the HTML part's
 * href (which must agree); the link must start with PUBLIC_URL.
 */
function tokenIn(mail: ParsedMail, page: '/reset_password_page' | '/verify_email_page'): string {
  const link = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}${page}\\?token=([A-Za-z0-9_-]+)`);
  const fromText = link.exec(mail.text ?? '')?.[1];
  const href = /href="([^"]+)"/.exec(typeof mail.html === 'string' ? mail.html : '')?.[1]?.replace(/&amp;/g, '&');
  const fromHtml = href ? link.exec(href)?.[1] : undefined;
  if (!fromText || !fromHtml) throw new Error(`no ${page} link in "${mail.subject}":\n${mail.text}`);
  expect(fromHtml).toBe(fromText);
  expect(fromText).toHaveLength(43);
  return fromText;
}

describe('Account recovery by mail', () => {
  let smtp: TestSmtp;
  let t: TestApp;

  const mailsTo = (address: string, subject?: string) =>
    smtp.messages.filter((m) => recipient(m) === address && (subject === undefined || m.subject === subject));
  const lastMail = (address: string, subject: string) => {
    const found = mailsTo(address, subject);
    if (found.length === 0) throw new Error(`no "${subject}" mail to ${address}`);
    return found[found.length - 1];
  };
  const post = (path: string, body: object = {}) => request(t.http).post(path).send(body);
  const forgot = async (email: string) => {
    const res = await post('/forgot_password', { email }).expect(202);
    await settle(t);
    return res;
  };
  /** Asks for a reset link and returns its token. */
  const resetToken = async (user: Pick<TestUser, 'email'>) => {
    await forgot(user.email);
    return tokenIn(lastMail(user.email, 'Reset your password'), '/reset_password_page');
  };
  const tokens = () => t.dataSource.getRepository(EmailToken).find({ order: { id: 'ASC' } });
  const userRow = (id: number) => t.dataSource.getRepository(User).findOneByOrFail({ id });

  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await smtp?.close();
  });
  beforeEach(async () => {
    smtp.messages.length = 0;
    t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL, TRUST_PROXY: 'loopback' });
  });
  afterEach(async () => {
    await t?.close();
  });

  describe('password reset', () => {
    it('forgot → mail → reset: every session ends (password_reset), the old password fails, the new one works, a notice comes', async () => {
      const user = await signup(t.http);
      const phone = await login(t.http, user, 'phone');
      const laptop = await login(t.http, user, 'laptop');

      const token = await resetToken(user);
      const res = await post('/reset_password', { token, new_password: NEW_PASSWORD }).expect(200);
      expect(res.body).toEqual({ revoked: 2 });
      // It does not sign in.
      expect(res.headers['set-cookie']).toBeUndefined();

      for (const session of [phone, laptop]) {
        const status = await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(401);
        expect(status.body).toMatchObject({ authenticated: false, reason: 'password_reset' });
      }
      await post('/login', { email: user.email, password: user.password }).expect(401);
      const signedIn = await post('/login', { email: user.email, password: NEW_PASSWORD }).expect(200);
      // The link reached the address: it is verified now.
      expect(signedIn.body.user.email_verified).toBe(true);

      await settle(t);
      const notice = lastMail(user.email, 'Your password was changed');
      expect(notice.text).toContain('reset with a link sent to this address');
      expect(`${notice.text}${String(notice.html)}`).not.toContain(token);
      // Used once: the same link again changes nothing.
      const again = await post('/reset_password', { token, new_password: 'yet another passphrase' }).expect(400);
      expect(again.body).toEqual({ statusCode: 400, error: 'Bad Request', message: INVALID_LINK });
      await post('/login', { email: user.email, password: NEW_PASSWORD }).expect(200);
    });

    it('answers the same 202 for a known, an unknown and a disabled account, and mails only the active one', async () => {
      const user = await signup(t.http);
      const disabled = await signup(t.http);
      await t.dataSource.getRepository(User).update({ id: disabled.id }, { isActive: false });
      await settle(t);
      smtp.messages.length = 0;

      const answers = [];
      for (const email of [user.email, 'nobody-here@example.com', disabled.email]) {
        const res = await forgot(email);
        answers.push({ body: res.body, type: res.headers['content-type'], length: res.headers['content-length'] });
      }
      expect(answers[0].body).toEqual({ message: RESET_REQUESTED });
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
      expect(smtp.messages.map(recipient)).toEqual([user.email]);
    });

    it('answers without waiting for the lookup, the token or the mail: held up, they come after the 202', async () => {
      const user = await signup(t.http);
      await settle(t);
      // A transaction holding the account's row (PostgreSQL) or the database (SQLite's transactions
      // take turns): the work for a known address cannot finish while it is open.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const taken = new Promise<void>((resolve) => (holding = resolve));
      const holder = t.dataSource.transaction(async (tx) => {
        await t.app.get(UsersService).lock(user.id, tx);
        holding();
        await held;
      });
      await taken;
      try {
        const known = await post('/forgot_password', { email: user.email }).expect(202);
        const unknown = await post('/forgot_password', { email: 'nobody-here@example.com' }).expect(202);
        expect(unknown.body).toEqual(known.body);
        expect(mailsTo(user.email, 'Reset your password')).toHaveLength(0);
      } finally {
        release();
        await holder;
      }
      await settle(t);
      expect(mailsTo(user.email, 'Reset your password')).toHaveLength(1);
    });

    it('matches the address after the signup normalisation', async () => {
      const user = await signup(t.http, { email: `mixed-${Date.now()}@example.com` });
      await forgot(`  ${user.email.toUpperCase()} `);
      expect(mailsTo(user.email, 'Reset your password')).toHaveLength(1);
    });

    it('refuses an expired link, and a link made void by a newer one', async () => {
      const user = await signup(t.http);
      const first = await resetToken(user);
      const second = await resetToken(user);
      expect(second).not.toBe(first);
      await post('/reset_password', { token: first, new_password: NEW_PASSWORD }).expect(400);

      // PASSWORD_RESET_TIMEOUT (1800 s by default).
      t.clock.advance(1801);
      await post('/reset_password', { token: second, new_password: NEW_PASSWORD }).expect(400);
      await post('/login', { email: user.email, password: user.password }).expect(200);

      const third = await resetToken(user);
      t.clock.advance(1799);
      await post('/reset_password', { token: third, new_password: NEW_PASSWORD }).expect(200);
    });

    it('lets exactly one of two resets racing with one token succeed', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      const token = await resetToken(user);
      const results = await Promise.all(
        ['first racing passphrase', 'second racing passphrase'].map((password) =>
          post('/reset_password', { token, new_password: password }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
      const winner = results[0].status === 200 ? 'first racing passphrase' : 'second racing passphrase';
      const loser = winner.startsWith('first') ? 'second racing passphrase' : 'first racing passphrase';
      await post('/login', { email: user.email, password: loser }).expect(401);
      await post('/login', { email: user.email, password: winner }).expect(200);
      await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(401);
      await settle(t);
      expect(mailsTo(user.email, 'Your password was changed')).toHaveLength(1);
    });

    it('changes nothing for a bad new password, and the link still works afterwards', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      const token = await resetToken(user);
      const short = await post('/reset_password', { token, new_password: 'short' }).expect(400);
      expect(short.body.message).toEqual([expect.stringContaining('new_password')]);
      await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(200);
      await post('/reset_password', { token, new_password: NEW_PASSWORD }).expect(200);
    });

    it('sends at most 3 reset links per account an hour; the answer stays 202', async () => {
      const user = await signup(t.http);
      for (let i = 0; i < 5; i++) await forgot(user.email);
      expect(mailsTo(user.email, 'Reset your password')).toHaveLength(3);
      // Only the newest of them works.
      const links = mailsTo(user.email, 'Reset your password').map((m) => tokenIn(m, '/reset_password_page'));
      await post('/reset_password', { token: links[0], new_password: NEW_PASSWORD }).expect(400);

      t.clock.advance(3601);
      await forgot(user.email);
      expect(mailsTo(user.email, 'Reset your password')).toHaveLength(4);
    });

    it('builds the link from PUBLIC_URL, whatever Host or X-Forwarded-Host the request names', async () => {
      const user = await signup(t.http);
      await request(t.http)
        .post('/forgot_password')
        .set('Host', 'evil.example')
        .set('X-Forwarded-Host', 'evil.example')
        .set('X-Forwarded-Proto', 'http')
        .send({ email: user.email })
        .expect(202);
      await settle(t);
      const mail = lastMail(user.email, 'Reset your password');
      expect(`${mail.text}${String(mail.html)}`).not.toContain('evil.example');
      tokenIn(mail, '/reset_password_page');
    });

    it('makes a pending e-mail change void: a link someone else asked for cannot take the account after a reset', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      await request(t.http)
        .post('/change_email')
        .set('Cookie', session.cookie)
        .send({ password: user.password, new_email: 'attacker@example.net' })
        .expect(202);
      await settle(t);
      const changeToken = tokenIn(
        lastMail('attacker@example.net', 'Confirm your new e-mail address'),
        '/verify_email_page',
      );

      await post('/reset_password', { token: await resetToken(user), new_password: NEW_PASSWORD }).expect(200);
      await post('/verify_email', { token: changeToken }).expect(400);
      expect((await userRow(user.id)).email).toBe(user.email);
    });
  });

  describe('e-mail verification', () => {
    it('mails a link at signup; using it verifies the address, once', async () => {
      const user = await signup(t.http);
      await settle(t);
      const mail = lastMail(user.email, 'Confirm your e-mail address');
      const token = tokenIn(mail, '/verify_email_page');
      expect((await userRow(user.id)).emailVerified).toBe(false);

      // The link may be opened anywhere: no session needed.
      const res = await post('/verify_email', { token }).expect(200);
      expect(res.body.user).toMatchObject({ id: user.id, email: user.email, email_verified: true });
      expect(Object.keys(res.body)).toEqual(['user']);
      expect((await userRow(user.id)).emailVerified).toBe(true);
      await post('/verify_email', { token }).expect(400);
    });

    it('refuses a verification link past EMAIL_VERIFICATION_TIMEOUT', async () => {
      const user = await signup(t.http);
      await settle(t);
      const token = tokenIn(lastMail(user.email, 'Confirm your e-mail address'), '/verify_email_page');
      t.clock.advance(3 * 86400 + 1);
      await post('/verify_email', { token }).expect(400);
      expect((await userRow(user.id)).emailVerified).toBe(false);
    });

    it('does not take a reset token as a verification token, nor the reverse', async () => {
      const user = await signup(t.http);
      await settle(t);
      const verify = tokenIn(lastMail(user.email, 'Confirm your e-mail address'), '/verify_email_page');
      const reset = await resetToken(user);
      await post('/verify_email', { token: reset }).expect(400);
      await post('/reset_password', { token: verify, new_password: NEW_PASSWORD }).expect(400);
      await post('/verify_email', { token: verify }).expect(200);
      await post('/reset_password', { token: reset, new_password: NEW_PASSWORD }).expect(200);
    });

    it('resends a link to a signed-in caller (the older link dies); 409 once verified', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      await settle(t);
      const first = tokenIn(lastMail(user.email, 'Confirm your e-mail address'), '/verify_email_page');

      await request(t.http).post('/resend_verification').set('Cookie', session.cookie).send({}).expect(202);
      await settle(t);
      const second = tokenIn(lastMail(user.email, 'Confirm your e-mail address'), '/verify_email_page');
      expect(second).not.toBe(first);
      await post('/verify_email', { token: first }).expect(400);
      await request(t.http).post('/verify_email').set('Cookie', session.cookie).send({ token: second }).expect(200);

      const verified = await request(t.http).post('/resend_verification').set('Cookie', session.cookie).send({});
      expect(verified.status).toBe(409);
      expect(verified.body.message).toBe('Your e-mail address is already confirmed');
    });

    it('limits a signed-in caller to 3 links an hour (429 with Retry-After)', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      // The signup's link counts.
      for (let i = 0; i < 2; i++)
        await request(t.http).post('/resend_verification').set('Cookie', session.cookie).send({}).expect(202);
      const limited = await request(t.http).post('/resend_verification').set('Cookie', session.cookie).send({});
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(3500);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(3600);
    });

    it('resends signed out with {email}: the same 202 for every address, mail only to an unverified active account', async () => {
      const unverified = await signup(t.http);
      const verified = await signup(t.http);
      await settle(t);
      await post('/verify_email', {
        token: tokenIn(lastMail(verified.email, 'Confirm your e-mail address'), '/verify_email_page'),
      }).expect(200);
      smtp.messages.length = 0;

      const bodies = [];
      for (const email of [unverified.email, verified.email, 'nobody-here@example.com']) {
        bodies.push((await post('/resend_verification', { email }).expect(202)).body);
        await settle(t);
      }
      expect(bodies[1]).toEqual(bodies[0]);
      expect(bodies[2]).toEqual(bodies[0]);
      expect(smtp.messages.map(recipient)).toEqual([unverified.email]);

      // Without an address and without a session, there is no one to send to.
      const missing = await post('/resend_verification', {}).expect(400);
      expect(missing.body.message).toEqual(['email must be given when not signed in']);
    });

    describe('with REQUIRE_VERIFIED_EMAIL=true', () => {
      beforeEach(async () => {
        await t.close();
        t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL, REQUIRE_VERIFIED_EMAIL: 'true' });
      });

      it('refuses the right password with 403 email_not_verified and no session; a wrong one stays 401; after verifying, 200', async () => {
        const user = await signup(t.http);
        const refused = await post('/login', { email: user.email, password: user.password }).expect(403);
        expect(refused.body).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          message: expect.stringContaining('Confirm your e-mail address'),
          reason: 'email_not_verified',
        });
        expect(refused.headers['set-cookie']).toBeUndefined();
        const wrong = await post('/login', { email: user.email, password: 'not the password' }).expect(401);
        expect(wrong.body.reason).toBeUndefined();
        const sessions = await t.dataSource.query('SELECT COUNT(*) AS n FROM sessions');
        expect(Number(sessions[0].n)).toBe(0);

        // Signed out, the owner asks for a new link, and uses it.
        await post('/resend_verification', { email: user.email }).expect(202);
        await settle(t);
        const links = mailsTo(user.email, 'Confirm your e-mail address');
        expect(links).toHaveLength(2);
        await post('/verify_email', { token: tokenIn(links[0], '/verify_email_page') }).expect(400);
        await post('/verify_email', { token: tokenIn(links[1], '/verify_email_page') }).expect(200);
        await post('/login', { email: user.email, password: user.password }).expect(200);

        const activity = await login(t.http, user);
        const attempts = await request(t.http).get('/login_activity').set('Cookie', activity.cookie).expect(200);
        expect(attempts.body.attempts.map((a: { reason: string }) => a.reason)).toContain('email_not_verified');
      });

      it('lets a reset verify the address, so the account can sign in', async () => {
        const user = await signup(t.http);
        await post('/reset_password', { token: await resetToken(user), new_password: NEW_PASSWORD }).expect(200);
        await post('/login', { email: user.email, password: NEW_PASSWORD }).expect(200);
      });
    });
  });

  describe('e-mail change', () => {
    it('mails a link to the new address and a notice to the old one; the address changes on confirmation, other sessions end, this one stays', async () => {
      const user = await signup(t.http);
      const here = await login(t.http, user, 'here');
      const there = await login(t.http, user, 'there');
      const newEmail = `changed-${Date.now()}@example.org`;

      const res = await request(t.http)
        .post('/change_email')
        .set('Cookie', here.cookie)
        .send({ password: user.password, new_email: `  ${newEmail.toUpperCase()}` })
        .expect(202);
      expect(res.body.message).toContain('confirmation link');
      await settle(t);
      const notice = lastMail(user.email, 'A change of your e-mail address was asked for');
      expect(notice.text).toContain(newEmail);
      const token = tokenIn(lastMail(newEmail, 'Confirm your new e-mail address'), '/verify_email_page');
      expect(`${notice.text}${String(notice.html)}`).not.toContain(token);
      // Nothing changes until the link is used.
      expect((await userRow(user.id)).email).toBe(user.email);
      await request(t.http).get('/session_status').set('Cookie', there.cookie).expect(200);

      const confirmed = await request(t.http)
        .post('/verify_email')
        .set('Cookie', here.cookie)
        .send({ token })
        .expect(200);
      expect(confirmed.body.user).toMatchObject({ id: user.id, email: newEmail, email_verified: true });
      expect(confirmed.headers['set-cookie']).toBeUndefined();

      const status = await request(t.http).get('/session_status').set('Cookie', here.cookie).expect(200);
      expect(status.body.user.email).toBe(newEmail);
      const ended = await request(t.http).get('/session_status').set('Cookie', there.cookie).expect(401);
      expect(ended.body.reason).toBe('revoked');

      await post('/login', { email: user.email, password: user.password }).expect(401);
      await post('/login', { email: newEmail, password: user.password }).expect(200);
      await post('/verify_email', { token }).expect(400);
    });

    it('ends every session when the link is opened without one (another device)', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      const newEmail = `elsewhere-${Date.now()}@example.org`;
      await request(t.http)
        .post('/change_email')
        .set('Cookie', session.cookie)
        .send({ password: user.password, new_email: newEmail })
        .expect(202);
      await settle(t);
      await post('/verify_email', {
        token: tokenIn(lastMail(newEmail, 'Confirm your new e-mail address'), '/verify_email_page'),
      }).expect(200);
      const ended = await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(401);
      expect(ended.body.reason).toBe('revoked');
    });

    it('refuses a wrong password (401), a taken address (409), the current address (400); nothing is sent', async () => {
      const user = await signup(t.http);
      const other = await signup(t.http);
      const session = await login(t.http, user);
      await settle(t);
      smtp.messages.length = 0;
      const change = (body: object) => request(t.http).post('/change_email').set('Cookie', session.cookie).send(body);

      const wrong = await change({ password: 'not the password', new_email: 'fresh@example.org' }).expect(401);
      expect(wrong.body.message).toBe('Password is incorrect');
      const taken = await change({ password: user.password, new_email: other.email }).expect(409);
      expect(taken.body.message).toBe('An account with this email already exists');
      await change({ password: user.password, new_email: user.email }).expect(400);
      await change({ password: user.password, new_email: 'not an address' }).expect(400);
      await request(t.http)
        .post('/change_email')
        .send({ password: user.password, new_email: 'x@example.org' })
        .expect(401);
      await settle(t);
      expect(smtp.messages).toHaveLength(0);
    });

    it('answers 409 when the new address was taken before the link is used, and changes nothing', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      const newEmail = `contested-${Date.now()}@example.org`;
      await request(t.http)
        .post('/change_email')
        .set('Cookie', session.cookie)
        .send({ password: user.password, new_email: newEmail })
        .expect(202);
      await settle(t);
      const token = tokenIn(lastMail(newEmail, 'Confirm your new e-mail address'), '/verify_email_page');
      await signup(t.http, { email: newEmail });

      const res = await request(t.http).post('/verify_email').set('Cookie', session.cookie).send({ token });
      expect(res.status).toBe(409);
      expect((await userRow(user.id)).email).toBe(user.email);
      await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(200);
    });

    it('makes the link void when the password changes before it is used', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      const newEmail = `stale-${Date.now()}@example.org`;
      await request(t.http)
        .post('/change_email')
        .set('Cookie', session.cookie)
        .send({ password: user.password, new_email: newEmail })
        .expect(202);
      await settle(t);
      const token = tokenIn(lastMail(newEmail, 'Confirm your new e-mail address'), '/verify_email_page');
      await request(t.http)
        .post('/change_password')
        .set('Cookie', session.cookie)
        .send({ current_password: user.password, new_password: NEW_PASSWORD })
        .expect(200);
      await post('/verify_email', { token }).expect(400);
      expect((await userRow(user.id)).email).toBe(user.email);
    });

    it('makes reset links sent to the old address void once the address changes', async () => {
      const user = await signup(t.http);
      const session = await login(t.http, user);
      const reset = await resetToken(user);
      const newEmail = `moved-${Date.now()}@example.org`;
      await request(t.http)
        .post('/change_email')
        .set('Cookie', session.cookie)
        .send({ password: user.password, new_email: newEmail })
        .expect(202);
      await settle(t);
      await post('/verify_email', {
        token: tokenIn(lastMail(newEmail, 'Confirm your new e-mail address'), '/verify_email_page'),
      }).expect(200);
      await post('/reset_password', { token: reset, new_password: NEW_PASSWORD }).expect(400);
    });

    it('counts wrong passwords against the login limits (429 with Retry-After)', async () => {
      await t.close();
      t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL, LOGIN_LIMIT_ACCOUNT_ADDRESS: '2' });
      const user = await signup(t.http);
      const session = await login(t.http, user);
      const change = (password: string) =>
        request(t.http)
          .post('/change_email')
          .set('Cookie', session.cookie)
          .send({ password, new_email: 'guess@example.org' });
      await change('wrong one').expect(401);
      await change('wrong two').expect(401);
      const limited = await change(user.password).expect(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('limits and input', () => {
    it('limits requests per client address (AUTH_RATE_LIMIT, shared with /login and /signup): 429 with Retry-After', async () => {
      await t.close();
      t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL, TRUST_PROXY: 'loopback', AUTH_RATE_LIMIT: '4' });
      const from = (ip: string) => ({
        forgot: () =>
          request(t.http).post('/forgot_password').set('X-Forwarded-For', ip).send({ email: 'a@example.com' }),
        reset: () =>
          request(t.http)
            .post('/reset_password')
            .set('X-Forwarded-For', ip)
            .send({ token: 'A'.repeat(43), new_password: NEW_PASSWORD }),
      });
      const a = from('203.0.113.7');
      const statuses = [
        (await a.forgot()).status,
        (await a.forgot()).status,
        (await a.reset()).status,
        (await a.reset()).status,
      ];
      expect(statuses).toEqual([202, 202, 400, 400]);
      for (const call of [a.forgot, a.reset]) {
        const limited = await call().expect(429);
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      }
      await request(t.http)
        .post('/verify_email')
        .set('X-Forwarded-For', '203.0.113.7')
        .send({ token: 'A'.repeat(43) })
        .expect(429);
      await request(t.http)
        .post('/resend_verification')
        .set('X-Forwarded-For', '203.0.113.7')
        .send({ email: 'a@example.com' })
        .expect(429);
      // Another address is not held back; an IPv6 /64 counts as one address.
      await from('203.0.113.8').forgot().expect(202);
      for (let i = 0; i < 4; i++)
        await from(`2001:db8:1:2::${i + 1}`)
          .forgot()
          .expect(202);
      await from('2001:db8:1:2::99').forgot().expect(429);
      await settle(t);
    });

    it.each([
      ['/reset_password', {}],
      ['/reset_password', { new_password: NEW_PASSWORD }],
      ['/reset_password', { token: 'garbage', new_password: NEW_PASSWORD }],
      ['/reset_password', { token: 'A'.repeat(50_000), new_password: NEW_PASSWORD }],
      ['/reset_password', { token: { $ne: null }, new_password: NEW_PASSWORD }],
      ['/reset_password', { token: ['A'.repeat(43)], new_password: NEW_PASSWORD }],
      ['/reset_password', { token: 'A'.repeat(43), new_password: { a: 1 } }],
      ['/reset_password', { token: 'A'.repeat(43), new_password: NEW_PASSWORD, user_id: 1 }],
      ['/verify_email', {}],
      ['/verify_email', { token: null }],
      ['/verify_email', { token: 'A'.repeat(42) + '=' }],
      ['/verify_email', { token: { nested: { deeper: 'A'.repeat(43) } } }],
      ['/forgot_password', {}],
      ['/forgot_password', { email: { $gt: '' } }],
      ['/forgot_password', { email: 'x'.repeat(300) + '@example.com' }],
      ['/resend_verification', { email: ['a@example.com'] }],
    ])('answers 400 to bad input on %s (%#)', async (path, body) => {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
    });

    it('answers 400, never 500, to a well-formed token nobody was sent', async () => {
      const user = await signup(t.http);
      const res = await post('/reset_password', { token: 'A'.repeat(43), new_password: NEW_PASSWORD }).expect(400);
      expect(res.body.message).toBe(INVALID_LINK);
      await post('/verify_email', { token: 'A'.repeat(43) }).expect(400);
      await post('/login', { email: user.email, password: user.password }).expect(200);
    });

    it('reads no token from the URL: only the JSON body counts', async () => {
      const user = await signup(t.http);
      await settle(t);
      const token = tokenIn(lastMail(user.email, 'Confirm your e-mail address'), '/verify_email_page');
      await request(t.http).post(`/verify_email?token=${token}`).send({}).expect(400);
      expect((await userRow(user.id)).emailVerified).toBe(false);
    });
  });

  it('answers 503 on the routes that mail when production has no MAIL_URL (not /verify_email, which mails nothing)', async () => {
    await t.close();
    t = await createTestApp({ NODE_ENV: 'production', SECRET_KEY: TEST_SECRET });
    const user = await signup(t.http);
    // Production's cookie is __Host-session_token: a Bearer token is simpler here.
    const signedIn = await post('/login', { email: user.email, password: user.password, return_token: true }).expect(
      200,
    );
    const session = { cookie: `__Host-session_token=${signedIn.body.token as string}` };
    const unavailable = { statusCode: 503, error: 'Service Unavailable', message: MAIL_UNAVAILABLE };
    expect((await post('/forgot_password', { email: user.email }).expect(503)).body).toEqual(unavailable);
    expect((await post('/resend_verification', { email: user.email }).expect(503)).body).toEqual(unavailable);
    const resend = await request(t.http).post('/resend_verification').set('Cookie', session.cookie).send({});
    expect(resend.status).toBe(503);
    const change = await request(t.http)
      .post('/change_email')
      .set('Cookie', session.cookie)
      .send({ password: user.password, new_email: 'new@example.org' });
    expect(change.status).toBe(503);
    await post('/verify_email', { token: 'A'.repeat(43) }).expect(400);
    await t.app.get(RecoveryService).idle();
    expect((await tokens()).filter((row) => row.purpose !== 'verify_email')).toEqual([]);
  });

  it('stores only keyed hashes of the tokens, and the cleanup job deletes them RETENTION_DAYS after they expire', async () => {
    const user = await signup(t.http);
    const token = await resetToken(user);
    const rows = await t.dataSource.query('SELECT token_hash, purpose FROM email_tokens');
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(token);
    for (const row of rows) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);

    const cleanup = t.app.get(CleanupService);
    // Expired (the reset link after 30 minutes) but within RETENTION_DAYS (30): kept, for the hourly count.
    t.clock.advance(86400);
    expect((await cleanup.run()).email_tokens_deleted).toBe(0);
    // 30 days past the reset link's expiry, not yet past the verification link's (3 days later).
    t.clock.advance(30 * 86400);
    expect((await cleanup.run()).email_tokens_deleted).toBe(1);
    expect((await tokens()).map((row) => row.purpose)).toEqual(['verify_email']);
    t.clock.advance(3 * 86400);
    expect((await cleanup.run()).email_tokens_deleted).toBe(1);
    expect(await tokens()).toEqual([]);
  });
});

describe('Account recovery and the logs', () => {
  let smtp: TestSmtp;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ MAIL_URL: smtp.url, PUBLIC_URL }, { captureLogs: true });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('never writes a token or a password to the log, not even from a page URL carrying ?token=', async () => {
    const user = await signup(t.http);
    const session = await login(t.http, user);
    await request(t.http).post('/forgot_password').send({ email: user.email }).expect(202);
    await t.app.get(RecoveryService).idle();
    await t.app.get(Outbox).idle();
    const mails = smtp.messages.filter((m) => recipient(m) === user.email);
    const verifyToken = tokenIn(
      mails.find((m) => m.subject === 'Confirm your e-mail address')!,
      '/verify_email_page',
    );
    const resetTokenValue = tokenIn(
      mails.find((m) => m.subject === 'Reset your password')!,
      '/reset_password_page',
    );

    // What a browser opening the links sends (the pages themselves are another part's).
    await request(t.http).get(`/verify_email_page?token=${verifyToken}`);
    await request(t.http).get(`/reset_password_page?token=${resetTokenValue}&x=1`);
    await request(t.http).post('/verify_email').send({ token: verifyToken }).expect(200);
    await request(t.http)
      .post('/reset_password')
      .send({ token: resetTokenValue, new_password: NEW_PASSWORD })
      .expect(200);
    await request(t.http)
      .post('/change_email')
      .set('Cookie', (await login(t.http, { email: user.email, password: NEW_PASSWORD })).cookie)
      .send({ password: NEW_PASSWORD, new_email: `logged-${Date.now()}@example.org` })
      .expect(202);
    await request(t.http).get('/session_status').set('Cookie', session.cookie).expect(401);
    await t.app.get(Outbox).idle();

    const log = t.logs.join('\n');
    expect(log).toContain('password_reset');
    expect(log).toContain('/verify_email_page');
    for (const secret of [verifyToken, resetTokenValue, user.password, NEW_PASSWORD]) expect(log).not.toContain(secret);
  });
});
