import request from 'supertest';
import { Session } from '../src/sessions/session.entity';
import { User } from '../src/users/user.entity';
import { mailedToken, mailsInFolder } from './utils/mail-folder';
import { createTestApp, login, sessionSetCookie, signup, type TestApp } from './utils/test-app';

/** What a browser navigating sends. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('Browser pages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOGIN_LIMIT_ACCOUNT_ADDRESS: '2' });
  });
  afterAll(() => t.close());

  const formPost = (path: string, fields: Record<string, string>) =>
    request(t.http).post(path).set('Accept', BROWSER_ACCEPT).type('form').send(new URLSearchParams(fields).toString());

  describe('GET /signup_page and /login_page', () => {
    it('serve HTML forms with the API field names, labels, autocomplete hints and the contract limits', async () => {
      const signupPage = await request(t.http)
        .get('/signup_page')
        .expect(200)
        .expect('Content-Type', 'text/html; charset=utf-8');
      expect(signupPage.text).toContain('<form id="auth-form" class="stack" method="post" action="/signup"');
      for (const [name, autocomplete] of [
        ['name', 'name'],
        ['phone', 'tel'],
        ['email', 'email'],
        ['password', 'new-password'],
      ]) {
        expect(signupPage.text).toMatch(new RegExp(`<label for="${name}">`));
        expect(signupPage.text).toMatch(
          new RegExp(`<input id="${name}" name="${name}"[^>]*autocomplete="${autocomplete}"`),
        );
      }
      expect(signupPage.text).toMatch(/name="name"[^>]*maxlength="100"/);
      expect(signupPage.text).toMatch(/name="phone"[^>]*minlength="7" maxlength="20"/);
      expect(signupPage.text).toMatch(/name="email"[^>]*maxlength="254"/);
      expect(signupPage.text).toMatch(/name="password"[^>]*minlength="8" data-max-bytes="72"/);

      const loginPage = await request(t.http)
        .get('/login_page')
        .expect(200)
        .expect('Content-Type', 'text/html; charset=utf-8');
      expect(loginPage.text).toContain('method="post" action="/login"');
      // The account's name for password managers, and passkeys offered in its autofill.
      expect(loginPage.text).toMatch(/name="email"[^>]*autocomplete="username webauthn"/);
      expect(loginPage.text).toMatch(/name="password"[^>]*autocomplete="current-password"/);
      // "Keep me signed in": a checkbox that posts remember_me=true when ticked, unticked by default,
      // after a hidden remember_me=false, so an unticked box says false (the last value counts).
      expect(loginPage.text).toContain('<input type="hidden" name="remember_me" value="false">');
      expect(loginPage.text).toMatch(
        /<input id="remember_me" name="remember_me" type="checkbox" value="true" aria-describedby/,
      );
      expect(loginPage.text).toContain('<label for="remember_me">Keep me signed in</label>');
      expect(loginPage.headers['cache-control']).toBe('no-store');
    });

    it('show only the fixed notices a link may ask for', async () => {
      const created = await request(t.http).get('/login_page?notice=account_created').expect(200);
      expect(created.text).toContain('Account created. Sign in to continue.');
      const forged = await request(t.http).get('/login_page?notice=%3Cscript%3Ealert(1)%3C%2Fscript%3E').expect(200);
      expect(forged.text).not.toContain('alert(1)');
      expect(forged.text).toContain('<p class="notice" id="notice" role="status"></p>');
      await request(t.http).get('/login_page?notice=a&notice=b').expect(200);
    });

    it("say why the browser's last session ended, from its cookie", async () => {
      const user = await signup(t.http);
      const first = await login(t.http, user);
      const second = await login(t.http, user);
      await request(t.http)
        .delete(`/active_sessions/${first.body.session.id}`)
        .set('Cookie', second.cookie)
        .expect(204);
      const revoked = await request(t.http).get('/login_page').set('Cookie', first.cookie).expect(200);
      expect(revoked.text).toContain('You were signed out from another device.');

      t.clock.advance(86_401);
      const expired = await request(t.http).get('/login_page').set('Cookie', second.cookie).expect(200);
      expect(expired.text).toContain('Your session expired. Sign in again.');
      const unknown = await request(t.http).get('/login_page').set('Cookie', 'session_token=nonsense').expect(200);
      expect(unknown.text).toContain('Your session has ended. Sign in again.');
      const third = await login(t.http, user);
      const signedIn = await request(t.http).get('/login_page').set('Cookie', third.cookie).expect(200);
      expect(signedIn.text).toContain(`You are signed in as ${user.name}. Signing in again ends that session first.`);
      const none = await request(t.http).get('/login_page').expect(200);
      expect(none.text).toContain('<p class="notice" id="notice" role="status"></p>');
    });
  });

  describe("the mailed links' pages: /forgot_password_page, /reset_password_page, /verify_email_page", () => {
    /** Every row of every table, to show that a request changed none of them. */
    const databaseSnapshot = async (app: TestApp) => {
      const tables: Record<string, unknown[]> = {};
      for (const entity of app.dataSource.entityMetadatas) {
        tables[entity.tableName] = await app.dataSource.query(`SELECT * FROM "${entity.tableName}" ORDER BY 1`);
      }
      return tables;
    };
    const TOKEN = 'Zp4Xc8Lw2QvN7sYb1TgK9eRj3HmU6aFd0WnB5yEo8Ci';

    it('are plain HTML forms that post to the API, served no-store, with no referrer and nothing from another site', async () => {
      for (const [path, action, kind] of [
        ['/forgot_password_page', '/forgot_password', 'forgot_password'],
        [`/reset_password_page?token=${TOKEN}`, '/reset_password', 'reset_password'],
        [`/verify_email_page?token=${TOKEN}`, '/verify_email', 'verify_email'],
      ]) {
        const res = await request(t.http).get(path).set('Accept', BROWSER_ACCEPT).expect(200);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(String(res.headers['content-security-policy'])).toMatch(/default-src 'self'.*script-src 'self'/);
        expect(res.text).toContain(
          `<form id="account-form" class="stack" method="post" action="${action}" data-kind="${kind}">`,
        );
        // Nothing another site serves (a pixel, a font, a script) that a token in the URL could leak to.
        expect(res.text).not.toMatch(/(src|href|action)="(https?:)?\/\//);
        expect(res.text).not.toMatch(/\{\{/);
      }
      const forgot = await request(t.http).get('/forgot_password_page').expect(200);
      expect(forgot.text).toMatch(/<input id="email" name="email" type="email" autocomplete="email" required/);
      expect(forgot.text).toContain('<button class="button primary" type="submit">Send reset link</button>');
      const reset = await request(t.http).get(`/reset_password_page?token=${TOKEN}`).expect(200);
      expect(reset.text).toContain(`<input type="hidden" name="token" value="${TOKEN}">`);
      expect(reset.text).toMatch(
        /name="new_password" type="password" autocomplete="new-password" required minlength="8" data-max-bytes="72"/,
      );
      expect(reset.text).toMatch(/name="confirm_password" type="password" autocomplete="new-password" required/);
      const verify = await request(t.http).get(`/verify_email_page?token=${TOKEN}`).expect(200);
      expect(verify.text).toContain(`<input type="hidden" name="token" value="${TOKEN}">`);
      expect(verify.text).toContain('<button class="button primary" type="submit">Confirm my e-mail address</button>');
    });

    it('spend nothing and change nothing when only fetched (as mail scanners fetch links), nor log the token', async () => {
      const logged = await createTestApp({}, { captureLogs: true });
      try {
        const user = await signup(logged.http);
        await login(logged.http, user);
        await request(logged.http).post('/forgot_password').send({ email: user.email }).expect(202);
        const verifyToken = await mailedToken(logged, user.email, '/verify_email_page');
        const resetToken = await mailedToken(logged, user.email, '/reset_password_page');
        const before = await databaseSnapshot(logged);
        for (const path of [
          `/reset_password_page?token=${resetToken}`,
          `/verify_email_page?token=${verifyToken}`,
          '/forgot_password_page',
        ]) {
          for (const method of ['get', 'head'] as const) await request(logged.http)[method](path).expect(200);
        }
        await mailsInFolder(logged);
        expect(await databaseSnapshot(logged)).toEqual(before);
        // Both links still work.
        await request(logged.http).post('/verify_email').send({ token: verifyToken }).expect(200);
        await request(logged.http)
          .post('/reset_password')
          .send({ token: resetToken, new_password: 'a brand new password' })
          .expect(200);
        // The development outbox's log of each mail written (no MAIL_URL) is the one documented place for a link.
        const logs = logged.logs.filter((line) => !line.includes('"event":"mail_written"')).join('\n');
        expect(logs).toMatch(/"url":"\/reset_password_page"/);
        expect(logs).not.toContain(resetToken);
        expect(logs).not.toContain(verifyToken);
      } finally {
        await logged.close();
      }
    });

    it('take plain HTML form posts: each done page on success, the page again with what is wrong otherwise', async () => {
      const user = await signup(t.http);
      const sent = await formPost('/forgot_password', { email: user.email }).expect(303);
      expect(sent.headers.location).toBe('/forgot_password_page?notice=sent');
      const noAddress = await formPost('/forgot_password', { email: '' }).expect(400);
      expect(noAddress.text).toMatch(/<p class="field-error" id="email-error">Email [^<]+\.<\/p>/);
      expect(noAddress.text).toMatch(/id="email"[^>]*aria-invalid="true"/);

      const token = await mailedToken(t, user.email, '/reset_password_page');
      const mismatch = await formPost('/reset_password', {
        token,
        new_password: 'a brand new password',
        confirm_password: 'another one entirely',
      }).expect(400);
      expect(mismatch.text).toContain(
        '<p class="field-error" id="confirm_password-error">Confirm password must be the same as the new password.</p>',
      );
      expect(mismatch.text).toContain(`<input type="hidden" name="token" value="${token}">`);
      expect(mismatch.text).not.toMatch(/a brand new password|another one entirely/);
      const short = await formPost('/reset_password', { token, new_password: 'short', confirm_password: 'short' });
      expect(short.status).toBe(400);
      expect(short.text).toContain(
        '<p class="field-error" id="new_password-error">New password must be between 8 and 72 bytes (UTF-8).</p>',
      );
      // The repeat is the plain form's alone: the JSON API refuses it as any unknown field.
      await request(t.http)
        .post('/reset_password')
        .send({ token, new_password: 'a brand new password', confirm_password: 'a brand new password' })
        .expect(400);
      const done = await formPost('/reset_password', {
        token,
        new_password: 'a brand new password',
        confirm_password: 'a brand new password',
      }).expect(303);
      expect(done.headers.location).toBe('/reset_password_page?notice=done');
      await login(t.http, { email: user.email, password: 'a brand new password' });
      const spent = await formPost('/reset_password', {
        token,
        new_password: 'a brand new password',
        confirm_password: 'a brand new password',
      }).expect(400);
      expect(spent.text).toContain('>This link is invalid, has already been used or has expired.</p>');
      expect(spent.text).toMatch(/<form id="account-form" [^>]* hidden>/);
      expect(spent.text).toContain('<p class="alt" id="new-link"><a href="/forgot_password_page">Forgot password?</a>');

      const other = await signup(t.http);
      const verifyToken = await mailedToken(t, other.email, '/verify_email_page');
      const verified = await formPost('/verify_email', { token: verifyToken }).expect(303);
      expect(verified.headers.location).toBe('/verify_email_page?notice=done');
      expect((await t.dataSource.getRepository(User).findOneByOrFail({ id: other.id })).emailVerified).toBe(true);
      const again = await formPost('/verify_email', { token: verifyToken }).expect(400);
      expect(again.text).toContain('>This link is invalid, has already been used or has expired.</p>');

      const resent = await formPost('/resend_verification', { email: user.email }).expect(303);
      expect(resent.headers.location).toBe('/login_page?notice=verification_sent');
    });

    it('with REQUIRE_VERIFIED_EMAIL, the sign-in page refuses an unverified account and offers the link again', async () => {
      const strict = await createTestApp({ REQUIRE_VERIFIED_EMAIL: 'true' });
      try {
        const user = await signup(strict.http);
        const refused = await request(strict.http)
          .post('/login')
          .set('Accept', BROWSER_ACCEPT)
          .type('form')
          .send(new URLSearchParams({ email: user.email, password: user.password }).toString())
          .expect(403);
        expect(refused.text).toContain(
          '>Your e-mail address is not verified yet. Use the link we sent to it, or have it sent again.</p>',
        );
        expect(refused.text).toMatch(
          /<form id="resend-form" class="resend" method="post" action="\/resend_verification"\s+data-refused="[^"]+" data-sent="[^"]+">/,
        );
        expect(refused.text).toContain(`<input type="hidden" name="email" value="${user.email}">`);
        expect(refused.text).not.toContain(user.password);
      } finally {
        await strict.close();
      }
    });

    it('say what is wrong with a link that has no token or a malformed one, and where to get a new one', async () => {
      for (const query of ['', '?token=', '?token=a&token=b', '?token=%3Cscript%3E', '?token[x]=1']) {
        const reset = await request(t.http).get(`/reset_password_page${query}`).expect(200);
        expect(reset.text).toMatch(
          /<p class="form-error" id="form-error" role="alert" data-invalid="[^"]*">This link is/,
        );
        expect(reset.text).toMatch(/<form id="account-form" [^>]* hidden>/);
        expect(reset.text).toContain(
          '<p class="alt" id="new-link"><a href="/forgot_password_page">Forgot password?</a>',
        );
        expect(reset.text).not.toContain('<script>');
        const verify = await request(t.http).get(`/verify_email_page${query}`).expect(200);
        expect(verify.text).toMatch(/<form id="account-form" [^>]* hidden>/);
        expect(verify.text).toMatch(/<p class="alt" id="new-link">To get a new link, <a href="\/userpage">/);
      }
    });

    it('show only their own fixed notice once done', async () => {
      const sent = await request(t.http).get('/forgot_password_page?notice=sent').expect(200);
      expect(sent.text).toContain('>If an account uses this address, we sent it a link');
      const done = await request(t.http).get('/reset_password_page?notice=done').expect(200);
      expect(done.text).toContain('>Your new password is set, and every session of your account has been signed out.');
      expect(done.text).toContain('<a class="button primary" href="/login_page">Sign in</a>');
      const verified = await request(t.http).get('/verify_email_page?notice=done').expect(200);
      expect(verified.text).toContain('>Your e-mail address is verified.</p>');
      const forged = await request(t.http).get('/forgot_password_page?notice=%3Cb%3Ex').expect(200);
      expect(forged.text).toContain('<p class="notice" id="notice" role="status" tabindex="-1" data-sent="');
      expect(forged.text).toMatch(/data-sent="[^"]+"><\/p>/);
    });

    it('the sign-in page links to "Forgot password?"', async () => {
      const page = await request(t.http).get('/login_page').expect(200);
      expect(page.text).toContain('<a class="field-link" href="/forgot_password_page">Forgot password?</a>');
    });
  });

  describe('plain HTML form posts from a browser', () => {
    it('sign up: 303 to the sign-in page on success, setting no cookie', async () => {
      const res = await formPost('/signup', {
        name: 'Form Person',
        phone: '555 0100',
        email: 'form.person@example.com',
        password: 'correct horse',
      }).expect(303);
      expect(res.headers.location).toBe('/login_page?notice=account_created');
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('sign up: errors come back on the page under the API status, with typed values escaped and never the password', async () => {
      const res = await formPost('/signup', {
        name: '<script>x()</script>',
        phone: '12',
        email: 'nope',
        password: 'hunter2-secret-but-ok',
      }).expect(400);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('value="&lt;script&gt;x()&lt;/script&gt;"');
      expect(res.text).not.toContain('<script>x()');
      expect(res.text).toContain('value="12"');
      expect(res.text).toContain(
        '<p class="field-error" id="phone-error">Phone must be 7-20 characters of digits, spaces, +, -, ( and ).</p>',
      );
      expect(res.text).toContain('<p class="field-error" id="email-error">Email must be an email address.</p>');
      expect(res.text).toMatch(/id="phone"[^>]*aria-invalid="true"/);
      expect(res.text).toMatch(/id="name"[^>]*aria-invalid="false"/);
      expect(res.text).not.toContain('hunter2');

      const taken = await signup(t.http);
      const conflict = await formPost('/signup', {
        name: 'Again',
        phone: '555 0100',
        email: taken.email,
        password: 'correct horse',
      }).expect(409);
      expect(conflict.text).toContain(
        '<p class="field-error" id="email-error">An account with this email already exists.</p>',
      );
    });

    it('sign in: 303 to the dashboard with the cookie; a wrong password gives the page again (401), then throttling (429 with the wait)', async () => {
      const user = await signup(t.http);
      const ok = await formPost('/login', { email: user.email, password: user.password }).expect(303);
      expect(ok.headers.location).toBe('/userpage');
      expect(sessionSetCookie(ok.headers['set-cookie'])).toMatch(/^session_token=[\w-]{43}; .*HttpOnly; SameSite=Lax/);

      const wrong = await formPost('/login', { email: user.email, password: 'a wrong password' }).expect(401);
      expect(wrong.text).toContain('<p class="form-error" id="form-error" role="alert">Invalid email or password</p>');
      expect(wrong.text).toContain(`value="${user.email}"`);
      expect(wrong.text).not.toContain('a wrong password');
      await formPost('/login', { email: user.email, password: 'a wrong password' }).expect(401);
      const throttled = await formPost('/login', { email: user.email, password: user.password }).expect(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(throttled.text).toMatch(/Too many attempts\. Try again in \d+ minutes\./);
    });

    it('sign in with "Keep me signed in" ticked: 303 to the dashboard; on an error the box stays ticked', async () => {
      const user = await signup(t.http);
      const wrong = await formPost('/login', { email: user.email, password: 'a wrong password', remember_me: 'on' });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toMatch(/name="remember_me" type="checkbox" value="true" checked /);
      // As the page posts a ticked box: its hidden "false", then the checkbox's "true".
      const ok = await request(t.http)
        .post('/login')
        .set('Accept', BROWSER_ACCEPT)
        .type('form')
        .send(
          `${new URLSearchParams({ email: user.email, password: user.password })}&remember_me=false&remember_me=true`,
        )
        .expect(303);
      expect(ok.headers.location).toBe('/userpage');
      const status = await request(t.http)
        .get('/session_status')
        .set('Cookie', sessionSetCookie(ok.headers['set-cookie']).split(';')[0])
        .expect(200);
      expect(status.body.session.remember_me).toBe(true);

      // An unticked box sends nothing, and the page's hidden field says remember_me=false.
      const unticked = await formPost('/login', {
        email: user.email,
        password: user.password,
        remember_me: 'false',
      }).expect(303);
      const plain = await request(t.http)
        .get('/session_status')
        .set('Cookie', sessionSetCookie(unticked.headers['set-cookie']).split(';')[0])
        .expect(200);
      expect(plain.body.session.remember_me).toBe(false);
      expect(sessionSetCookie(unticked.headers['set-cookie'])).not.toMatch(/Max-Age|Expires/i);

      // A form that does not send the field at all (the original system's, a hand-made one) logs in as before.
      const omitted = await formPost('/login', { email: user.email, password: user.password }).expect(303);
      expect(sessionSetCookie(omitted.headers['set-cookie'])).toMatch(/Max-Age=86400/);
    });

    it('sign out: 303 to the sign-in page, the session ended and the cookie cleared', async () => {
      const user = await signup(t.http);
      const { cookie, body } = await login(t.http, user);
      const res = await request(t.http)
        .post('/logout')
        .set('Accept', BROWSER_ACCEPT)
        .set('Cookie', cookie)
        .type('form')
        .send('')
        .expect(303);
      expect(res.headers.location).toBe('/login_page?notice=signed_out');
      expect(sessionSetCookie(res.headers['set-cookie'])).toMatch(/^session_token=;/);
      expect((await t.dataSource.getRepository(Session).findOneByOrFail({ id: body.session.id })).endReason).toBe(
        'logged_out',
      );
    });

    it('leave the JSON API as it was for every other client, form posts included', async () => {
      const user = await signup(t.http);
      const plain = await request(t.http)
        .post('/login')
        .type('form')
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(plain.body.user.email).toBe(user.email);
      const json = await request(t.http)
        .post('/login')
        .set('Accept', 'application/json')
        .type('form')
        .send({ email: user.email, password: user.password })
        .expect(200);
      expect(json.body.session.current).toBe(true);
      // A script posting JSON gets JSON, whatever it accepts.
      const script = await request(t.http)
        .post('/login')
        .set('Accept', BROWSER_ACCEPT)
        .send({ email: user.email, password: 'wrong!' })
        .expect(401);
      expect(script.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Invalid email or password' });
      const bad = await request(t.http).post('/signup').type('form').send({ name: 'x' }).expect(400);
      expect(bad.headers['content-type']).toMatch(/^application\/json/);
      await request(t.http).post('/logout').type('form').send('').expect(200, { message: 'Logged out' });
    });
  });

  describe('GET /userpage', () => {
    it('gives a signed-in browser the dashboard, with user text escaped, and JSON to everyone else', async () => {
      const user = await signup(t.http, {
        name: '<img src=x onerror=alert(1)> Mallory',
        email: "o'mallory@example.com",
      });
      const { cookie } = await login(t.http, user);
      const page = await request(t.http)
        .get('/userpage')
        .set('Accept', BROWSER_ACCEPT)
        .set('Cookie', cookie)
        .expect(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers.vary).toMatch(/Accept/);
      expect(page.text).toContain('<h1 id="page-title">&lt;img src=x onerror=alert(1)&gt; Mallory</h1>');
      expect(page.text).not.toContain('<img src=x');
      // The address, escaped, with places to wrap before its "@" and "." (and plain in the forms' hidden fields).
      expect(page.text).toContain(
        '<dd class="email"><span>o&#39;mallory</span><wbr><span>@example<wbr>.com</span></dd>',
      );
      expect(page.text).toContain('value="o&#39;mallory@example.com"');
      expect(page.text).toContain('<form id="logout-form" method="post" action="/logout">');
      expect(page.text).toContain('<span id="session-count">1</span>');

      const json = await request(t.http).get('/userpage').set('Cookie', cookie).expect(200);
      expect(json.body).toEqual({ user: expect.objectContaining({ name: user.name }), active_sessions: 1 });
    });

    it('shows the "not verified" banner while the address is not verified, and the e-mail change form', async () => {
      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      const dashboard = () =>
        request(t.http).get('/userpage').set('Accept', BROWSER_ACCEPT).set('Cookie', cookie).expect(200);
      const unverified = await dashboard();
      expect(unverified.text).toContain('<div class="verify-banner" id="verify-banner">');
      expect(unverified.text).toContain('>Resend verification e-mail</button>');
      expect(unverified.text).toContain(
        '<form id="email-form" class="stack" method="post" action="/change_email" novalidate>',
      );
      expect(unverified.text).toMatch(
        /<input id="new_email" name="new_email" type="email" autocomplete="email" required/,
      );
      await t.dataSource.getRepository(User).update({ id: user.id }, { emailVerified: true });
      const verified = await dashboard();
      expect(verified.text).toContain('<div class="verify-banner" id="verify-banner" hidden>');
    });
  });

  describe('/assets', () => {
    it("serves the pages' files and the user-agent parser, and nothing else", async () => {
      await request(t.http)
        .get('/assets/app.css')
        .expect(200)
        .expect('Content-Type', /text\/css/);
      await request(t.http)
        .get('/assets/dashboard.js')
        .expect(200)
        .expect('Content-Type', /javascript/);
      const parser = await request(t.http).get('/assets/vendor/ua-parser.min.js').expect(200);
      expect(parser.text).toContain('UAParser');
      await request(t.http).get('/assets/nope.js').expect(404).expect('Content-Type', /json/);
      // A path that climbs out of the folder is refused (@fastify/static answers 403 for "..").
      for (const path of [
        '/assets/../app.module.js',
        '/assets/%2e%2e/pages.controller.js',
        '/assets/vendor/../../pages/html.js',
      ]) {
        const res = await request(t.http).get(path);
        expect([403, 404]).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/json/);
        expect(res.text).not.toMatch(/require\(|exports/);
      }
      await request(t.http).get('/assets/vendor/ua-parser.pack.js').expect(404);
      await request(t.http).get('/assets/vendor/ua-parser.min.js/x').expect(404);
    });

    /** Every /assets URL a page's markup names (stylesheet, icon, scripts). */
    const assetUrls = (html: string) => [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    const LONG_LIVED = 'public, max-age=31536000, immutable';

    it('the pages name their files under one version, served for a year; the pages themselves stay no-store', async () => {
      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      const pages = await Promise.all([
        request(t.http).get('/login_page').expect(200),
        request(t.http).get('/signup_page').expect(200),
        request(t.http).get('/userpage').set('Accept', BROWSER_ACCEPT).set('Cookie', cookie).expect(200),
      ]);
      const urls = new Set(pages.flatMap((page) => assetUrls(page.text)));
      for (const page of pages) expect(page.headers['cache-control']).toBe('no-store');
      const versions = new Set([...urls].map((url) => url.split('/')[2]));
      expect(versions.size).toBe(1);
      const [version] = versions;
      expect(version).toMatch(/^[0-9a-f]{12}$/);
      expect([...urls].sort()).toEqual(
        ['app.css', 'favicon.svg', 'auth-form.js', 'dashboard.js', 'vendor/ua-parser.min.js']
          .map((file) => `/assets/${version}/${file}`)
          .sort(),
      );
      // No view names an unversioned file, nor a placeholder left unfilled.
      for (const page of pages) expect(page.text).not.toMatch(/"\/assets\/[a-z-]+\.(css|js|svg)"|\{\{/);

      for (const url of urls) {
        const res = await request(t.http).get(url).expect(200);
        expect({ url, cacheControl: res.headers['cache-control'] }).toEqual({ url, cacheControl: LONG_LIVED });
        expect(res.headers['content-type']).toMatch(/text\/css|javascript|image\/svg\+xml/);
      }
      const head = await request(t.http).head(`/assets/${version}/app.css`).expect(200);
      expect(head.headers['cache-control']).toBe(LONG_LIVED);
      // The scripts import each other relatively ('./api.js'): those resolve in the same version.
      const dashboard = await request(t.http).get(`/assets/${version}/dashboard.js`).expect(200);
      for (const [, imported] of dashboard.text.matchAll(/from '\.\/([\w-]+\.js)'/g)) {
        const res = await request(t.http).get(`/assets/${version}/${imported}`).expect(200);
        expect(res.headers['cache-control']).toBe(LONG_LIVED);
      }
    });

    it('a missing file, another version and a climb out of the folder are 404s that nothing keeps; unversioned URLs are no-store', async () => {
      const page = await request(t.http).get('/login_page').expect(200);
      const version = assetUrls(page.text)[0].split('/')[2];
      for (const path of [
        `/assets/${version}/nope.js`,
        `/assets/${version}/vendor/ua-parser.pack.js`,
        `/assets/${version}/vendor`,
        `/assets/0123456789ab/app.css`,
        `/assets/${version}x/app.css`,
      ]) {
        const res = await request(t.http).get(path);
        expect({ path, status: res.status, cacheControl: res.headers['cache-control'] }).toEqual({
          path,
          status: 404,
          cacheControl: 'no-store',
        });
        expect(res.headers['content-type']).toMatch(/json/);
      }
      for (const path of [`/assets/${version}/../app.module.js`, `/assets/${version}/%2e%2e/%2e%2e/app.module.js`]) {
        const res = await request(t.http).get(path);
        expect([403, 404]).toContain(res.status);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.text).not.toMatch(/require\(|exports/);
      }
      for (const path of ['/assets/app.css', '/assets/dashboard.js', '/assets/vendor/ua-parser.min.js']) {
        const res = await request(t.http).get(path).expect(200);
        expect({ path, cacheControl: res.headers['cache-control'] }).toEqual({ path, cacheControl: 'no-store' });
      }
    });

    it('/favicon.ico is the icon (an SVG image), kept a day; the JSON API stays no-store', async () => {
      for (const method of ['get', 'head'] as const) {
        const icon = await request(t.http)[method]('/favicon.ico').expect(200);
        expect(icon.headers['content-type']).toBe('image/svg+xml');
        expect(icon.headers['cache-control']).toBe('public, max-age=86400');
      }
      const icon = await request(t.http)
        .get('/favicon.ico')
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => done(null, text));
        });
      expect(String(icon.body)).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      // The page's CSP lets it show: same origin (img-src 'self').
      expect(icon.headers['content-security-policy']).toMatch(/img-src 'self'/);

      const user = await signup(t.http);
      const { cookie } = await login(t.http, user);
      for (const res of [
        await request(t.http).get('/session_status').set('Cookie', cookie).expect(200),
        await request(t.http).get('/userpage').set('Cookie', cookie).expect(200),
        await request(t.http).get('/health').expect(200),
        await request(t.http).get('/nope').expect(404),
        await request(t.http).get('/session_status').expect(401),
      ])
        expect(res.headers['cache-control']).toBe('no-store');
    });
  });
});
