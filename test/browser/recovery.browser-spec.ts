/// <reference lib="dom" />
import type { ParsedMail } from 'mailparser';
import type { BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { Outbox } from '../../src/mail/outbox.service';
import { User } from '../../src/users/user.entity';
import { startSmtp, type TestSmtp } from '../utils/smtp';
import { login, signup, type TestUser } from '../utils/test-app';
import {
  axeViolations,
  expectText,
  newBrowser,
  openSite,
  overflowsSideways,
  screenshots,
  signIn,
  submitAndWait,
  type Look,
  type PageProblems,
  type Site,
} from './browser';

/** Where the mails' links point (PUBLIC_URL): not the test server's port, which is only known once it listens. */
const PUBLIC_URL = 'https://sessions.example.test';
/** A token of the right form that no link carries. */
const WELL_FORMED = 'Zp4Xc8Lw2QvN7sYb1TgK9eRj3HmU6aFd0WnB5yEo8Ci';

/**
 * The recovery flows as a person goes through them in Chromium, against the app and a real SMTP
 * server in the test process: the link read from the mail received, opened, used; with JavaScript,
 * and the public pages without it. Each new page state is checked as the other pages are (axe,
 * nothing wider than a phone, no script error) and photographed, desktop and phone, light and dark.
 */
async function openMailSite(env: Record<string, string> = {}): Promise<{ site: Site; smtp: TestSmtp }> {
  const smtp = await startSmtp();
  const site = await openSite({
    MAIL_URL: smtp.url,
    PUBLIC_URL,
    MAIL_FROM: 'Sessions <no-reply@example.test>',
    ...env,
  });
  return { site, smtp };
}

function recipients(mail: ParsedMail): string[] {
  return [mail.to ?? []].flat().flatMap((to) => to.value.map((address) => address.address ?? ''));
}

/** The newest mail to `address` received after the first `since` messages (waits up to 10 s for delivery). */
async function mailTo(site: Site, smtp: TestSmtp, address: string, since: number): Promise<ParsedMail> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await site.t.app.get(Outbox).idle();
    const found = smtp.messages.slice(since).filter((mail) => recipients(mail).includes(address));
    if (found.length > 0) return found[found.length - 1];
    if (Date.now() > deadline)
      throw new Error(`no mail to ${address}; received: ${smtp.messages.map((m) => recipients(m)).join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The page link in a mail (to PUBLIC_URL), as a path on the test server. */
function linkIn(mail: ParsedMail, page: 'reset_password_page' | 'verify_email_page'): string {
  const match = new RegExp(`${PUBLIC_URL}(/${page}\\?token=[\\w-]+)`).exec(mail.text ?? '');
  if (!match) throw new Error(`no ${page} link in "${mail.subject}": ${mail.text}`);
  return match[1];
}

/** Checked in each of the four looks: no axe violation, and at phone width nothing wider than the screen. */
const accessibleAndFits =
  (page: Page) =>
  async ({ width }: Look): Promise<void> => {
    expect(await axeViolations(page)).toEqual([]);
    if (width === 'phone') expect(await overflowsSideways(page)).toBe(false);
  };

/** Every request the page makes goes to the site itself: a token in its URL reaches no one else. */
function recordForeignRequests(page: Page, base: string): string[] {
  const foreign: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(`${base}/`)) foreign.push(r.url());
  });
  return foreign;
}

/** The sign-in page, filled in (the caller presses "Sign in", with or without JavaScript). */
async function fillSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login_page');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
}

describe('Recovery by e-mail in Chromium', () => {
  let site: Site;
  let smtp: TestSmtp;
  beforeAll(async () => {
    ({ site, smtp } = await openMailSite());
  });
  afterAll(async () => {
    await site?.close();
    await smtp?.close();
  });

  let n = 0;
  const newUser = () => signup(site.t.http, { email: `recovery${++n}-${Date.now()}@example.com` });

  /** "Forgot password?" from the sign-in page, an address sent; the reset link mailed to it. */
  async function askForReset(page: Page, user: TestUser, js: boolean): Promise<string> {
    await page.goto('/login_page');
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL('/forgot_password_page');
    await page.getByLabel('Email').fill(user.email);
    const since = smtp.messages.length;
    if (js) await page.getByRole('button', { name: 'Send reset link' }).click();
    else expect(await submitAndWait(page, 'Send reset link')).toBe(200);
    await expectText(page.locator('#notice'), /^If an account uses this address, we sent it a link/);
    expect(await page.locator('#account-form').isHidden()).toBe(true);
    const mail = await mailTo(site, smtp, user.email, since);
    expect(mail.subject).toBe('Reset your password');
    return linkIn(mail, 'reset_password_page');
  }

  it('with JavaScript: "Forgot password?", the mailed link, a new password, every session ended, the old password refused', async () => {
    const user = await newUser();
    // Another browser, signed in before the reset: its session ends too.
    const other = await newBrowser(site);
    await signIn(other.context, user);

    const { context, page, problems } = await newBrowser(site);
    const foreign = recordForeignRequests(page, site.base);
    const link = await askForReset(page, user, true);
    await screenshots(page, 'forgot-password-sent', accessibleAndFits(page));

    // The same neutral words for an address no account uses.
    await page.goto('/forgot_password_page');
    await page.getByLabel('Email').fill('nobody-here@example.com');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expectText(page.locator('#notice'), /^If an account uses this address, we sent it a link/);

    await page.goto(link);
    // The token is out of the address bar (and so out of history) once the page has read it.
    await page.waitForURL('/reset_password_page');
    expect(await page.locator('input[name="token"]').inputValue()).toBe(
      new URLSearchParams(link.split('?')[1]).get('token'),
    );
    await page.getByLabel('New password', { exact: true }).fill('a brand new password');
    await page.getByLabel('Confirm new password').fill('a brand new passwort');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await expectText(page.locator('#confirm_password-error'), 'The two passwords are not the same.');
    await page.getByLabel('Confirm new password').fill('a brand new password');
    await expectText(page.locator('#confirm_password-error'), '');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await expectText(
      page.locator('#notice'),
      /^Your new password is set, and every session of your account has been signed out\./,
    );
    expect(await page.locator('#account-form').isHidden()).toBe(true);
    await screenshots(page, 'reset-password-done', accessibleAndFits(page));

    // The same link again: spent.
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('yet another password');
    await page.getByLabel('Confirm new password').fill('yet another password');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await expectText(page.locator('#form-error'), 'This link is invalid, has already been used or has expired.');
    await page.getByRole('link', { name: 'Forgot password?' }).waitFor();
    await screenshots(page, 'reset-password-used-link', accessibleAndFits(page));

    // The browser signed in before is sent to sign in, told why.
    await other.page.goto('/userpage');
    await other.page.waitForURL('/login_page');
    await expectText(
      other.page.locator('#notice'),
      'The password of this account was reset. Sign in with the new one.',
    );

    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL('/forgot_password_page');
    await fillSignIn(page, user.email, user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectText(page.locator('#form-error'), 'Invalid email or password');
    await page.getByLabel('Password').fill('a brand new password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('/userpage');
    // Resetting the password by the mailed link proved the address too.
    expect(await page.locator('#verify-banner').isHidden()).toBe(true);

    expect(foreign).toEqual([]);
    expect(problems.errors).toEqual([]);
    expect(other.problems.errors).toEqual([]);
    await context.close();
    await other.context.close();
  });

  it('without JavaScript: the same journey as plain HTML forms', async () => {
    const user = await newUser();
    const { context, page } = await newBrowser(site, { javaScriptEnabled: false });
    const link = await askForReset(page, user, false);
    expect(page.url()).toBe(`${site.base}/forgot_password_page?notice=sent`);

    await page.goto(link);
    // A password the browser's own checks would stop; the server must answer it on the page.
    await page.$eval('form#account-form', (form) => form.setAttribute('novalidate', ''));
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('Confirm new password').fill('short');
    expect(await submitAndWait(page, 'Set new password')).toBe(400);
    await expectText(page.locator('#new_password-error'), 'New password must be between 8 and 72 bytes (UTF-8).');
    expect(await page.getByLabel('New password', { exact: true }).inputValue()).toBe('');
    await screenshots(page, 'reset-password-errors-plain-post');

    await page.$eval('form#account-form', (form) => form.setAttribute('novalidate', ''));
    await page.getByLabel('New password', { exact: true }).fill('a brand new password');
    await page.getByLabel('Confirm new password').fill('not the same at all');
    expect(await submitAndWait(page, 'Set new password')).toBe(400);
    await expectText(page.locator('#confirm_password-error'), 'Confirm password must be the same as the new password.');

    await page.getByLabel('New password', { exact: true }).fill('a brand new password');
    await page.getByLabel('Confirm new password').fill('a brand new password');
    expect(await submitAndWait(page, 'Set new password')).toBe(200);
    expect(page.url()).toBe(`${site.base}/reset_password_page?notice=done`);
    await expectText(page.locator('#notice'), /^Your new password is set/);

    // Spent: the link again says so, with the way to a new one.
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('yet another password');
    await page.getByLabel('Confirm new password').fill('yet another password');
    expect(await submitAndWait(page, 'Set new password')).toBe(400);
    await expectText(page.locator('#form-error'), 'This link is invalid, has already been used or has expired.');
    expect(await page.locator('#account-form').isHidden()).toBe(true);

    await fillSignIn(page, user.email, user.password);
    expect(await submitAndWait(page, 'Sign in')).toBe(401);
    await expectText(page.locator('#form-error'), 'Invalid email or password');
    await page.getByLabel('Password').fill('a brand new password');
    expect(await submitAndWait(page, 'Sign in')).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/userpage');
    await context.close();
  });

  /** The verification link of a new account's signup mail. */
  async function signupLink(user: TestUser, since: number): Promise<string> {
    const mail = await mailTo(site, smtp, user.email, since);
    expect(mail.subject).toBe('Confirm your e-mail address');
    return linkIn(mail, 'verify_email_page');
  }

  it('with JavaScript: the signup mail\'s link, "Confirm my e-mail address", the dashboard banner gone', async () => {
    const since = smtp.messages.length;
    const user = await newUser();
    const link = await signupLink(user, since);
    const { context, page, problems } = await newBrowser(site);
    const foreign = recordForeignRequests(page, site.base);
    await signIn(context, user);
    await page.goto('/userpage');
    await expectText(
      page.locator('#verify-text'),
      'Your e-mail address is not verified yet: use the link we sent to it.',
    );

    // "Resend": a new link (the first one no longer works).
    const resent = smtp.messages.length;
    await page.getByRole('button', { name: 'Resend verification e-mail' }).click();
    await expectText(
      page.locator('#verify-status'),
      `We sent a new link to ${user.email}. The links sent before no longer work.`,
    );
    const newLink = linkIn(await mailTo(site, smtp, user.email, resent), 'verify_email_page');
    await screenshots(page, 'dashboard-unverified', accessibleAndFits(page));

    const verify = await context.newPage();
    await verify.goto(link);
    await verify.waitForURL('/verify_email_page');
    await screenshots(verify, 'verify-email', accessibleAndFits(verify));
    await verify.getByRole('button', { name: 'Confirm my e-mail address' }).click();
    await expectText(verify.locator('#form-error'), 'This link is invalid, has already been used or has expired.');
    await expectText(verify.locator('#new-link'), /To get a new link, open your account/);
    await screenshots(verify, 'verify-email-bad-link', accessibleAndFits(verify));

    await verify.goto(newLink);
    await verify.getByRole('button', { name: 'Confirm my e-mail address' }).click();
    await expectText(verify.locator('#notice'), 'Your e-mail address is verified.');
    await screenshots(verify, 'verify-email-done', accessibleAndFits(verify));
    expect((await site.t.dataSource.getRepository(User).findOneByOrFail({ id: user.id })).emailVerified).toBe(true);

    // The dashboard open in the other tab notices when it gets focus again; a new one shows no banner.
    await page.bringToFront();
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.locator('#verify-banner').waitFor({ state: 'hidden' });
    await verify.getByRole('link', { name: 'Continue to your account' }).click();
    await verify.waitForURL('/userpage');
    await expectText(verify.getByRole('heading', { level: 1 }), user.name);
    expect(await verify.locator('#verify-banner').isHidden()).toBe(true);
    expect(foreign).toEqual([]);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('without JavaScript: the verification page is a plain form', async () => {
    const since = smtp.messages.length;
    const user = await newUser();
    const link = await signupLink(user, since);
    const { context, page } = await newBrowser(site, { javaScriptEnabled: false });
    await page.goto(link);
    // Without a script the token stays in the address bar; it leaves in no Referer (no-referrer).
    expect(page.url()).toBe(`${site.base}${link}`);
    expect(await submitAndWait(page, 'Confirm my e-mail address')).toBe(200);
    expect(page.url()).toBe(`${site.base}/verify_email_page?notice=done`);
    await expectText(page.locator('#notice'), 'Your e-mail address is verified.');
    await screenshots(page, 'verify-email-done-plain-post');
    expect((await site.t.dataSource.getRepository(User).findOneByOrFail({ id: user.id })).emailVerified).toBe(true);

    await page.goto(link);
    expect(await submitAndWait(page, 'Confirm my e-mail address')).toBe(400);
    await expectText(page.locator('#form-error'), 'This link is invalid, has already been used or has expired.');
    await page.getByRole('link', { name: 'open your account' }).click();
    expect(new URL(page.url()).pathname).toBe('/login_page');
    await context.close();
  });

  it('with JavaScript: the e-mail change from the dashboard, the link mailed to the new address, the new address shown', async () => {
    const user = await newUser();
    const other = await newUser();
    const newAddress = `changed${n}-${Date.now()}@example.org`;
    const { context, page, problems } = await newBrowser(site);
    await signIn(context, user);
    await page.goto('/userpage');
    const form = page.locator('#email-form');

    // Wrong password, then a taken address: each at its field.
    await form.getByLabel('New e-mail address').fill(other.email);
    await form.getByLabel('Current password').fill('not my password');
    await form.getByRole('button', { name: 'Change e-mail address' }).click();
    await expectText(page.locator('#email_password-error'), 'That is not your current password.');
    await form.getByLabel('Current password').fill(user.password);
    await form.getByRole('button', { name: 'Change e-mail address' }).click();
    await expectText(page.locator('#new_email-error'), /already/);
    expect(await form.getByLabel('New e-mail address').getAttribute('aria-invalid')).toBe('true');
    await screenshots(page, 'dashboard-email-change-taken', accessibleAndFits(page));

    const since = smtp.messages.length;
    await form.getByLabel('New e-mail address').fill(newAddress);
    await form.getByLabel('Current password').fill(user.password);
    await form.getByRole('button', { name: 'Change e-mail address' }).click();
    await expectText(
      page.locator('#email-notice'),
      `We sent a link to ${newAddress}. Your address changes when you use it; until then it stays ${user.email}.`,
    );
    await screenshots(page, 'dashboard-email-change-sent', accessibleAndFits(page));
    const mail = await mailTo(site, smtp, newAddress, since);
    expect(mail.subject).toBe('Confirm your new e-mail address');
    // The current address is told of it.
    await mailTo(site, smtp, user.email, since);
    await expectText(page.locator('.details .email'), user.email);

    const verify = await context.newPage();
    await verify.goto(linkIn(mail, 'verify_email_page'));
    await verify.getByRole('button', { name: 'Confirm my e-mail address' }).click();
    await expectText(verify.locator('#notice'), 'Your e-mail address is verified.');
    await verify.getByRole('link', { name: 'Continue to your account' }).click();
    await verify.waitForURL('/userpage');
    await expectText(verify.locator('.details .email'), newAddress);
    expect(await verify.locator('#verify-banner').isHidden()).toBe(true);
    // The first tab shows it too once it looks again.
    await page.bringToFront();
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await expectText(page.locator('.details .email'), newAddress);

    // The old address signs in no more; the new one does.
    await login(site.t.http, { email: newAddress, password: user.password });
    await request(site.t.http).post('/login').send({ email: user.email, password: user.password }).expect(401);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  /**
   * Each state of the new pages, checked and photographed. Playwright cannot run axe in a page
   * with JavaScript disabled, so the pages "without JavaScript" are looked at with the page's own
   * scripts answered empty: what the server sent, as a browser without JavaScript shows it (the
   * new pages have no <noscript>). The journeys below run with JavaScript really disabled.
   */
  describe.each([
    ['with JavaScript', true],
    ['without their scripts', false],
  ])('%s: accessible, fit a phone, screenshots', (_, js) => {
    const suffix = js ? '' : '-nojs';
    const look = async (path: string, name: string, ready?: (page: Page) => Promise<void>) => {
      const { context, page, problems } = await newBrowser(site);
      if (!js)
        await context.route('**/assets/**/*.js', (route) =>
          route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }),
        );
      await page.goto(path);
      await ready?.(page);
      await screenshots(page, `${name}${suffix}`, accessibleAndFits(page));
      expect(problems.errors).toEqual([]);
      await context.close();
    };

    it('the sign-in page with "Forgot password?"', () => look('/login_page', 'login-forgot-link'));
    it('the "Forgot password?" page', () => look('/forgot_password_page', 'forgot-password'));
    it('the reset page', () => look(`/reset_password_page?token=${WELL_FORMED}`, 'reset-password'));
    it('the reset page without a token', () =>
      look('/reset_password_page', 'reset-password-no-token', (page) =>
        expectText(
          page.locator('#form-error'),
          'This link is incomplete. Open it again from your e-mail, or ask for a new one.',
        ),
      ));
    it('the verification page with a malformed token', () =>
      look('/verify_email_page?token=%3Cscript%3E', 'verify-email-bad-token', (page) =>
        expectText(page.locator('#form-error'), 'This link is invalid, has already been used or has expired.'),
      ));
    it('the reset page with its fields wrong', () =>
      look(`/reset_password_page?token=${WELL_FORMED}`, 'reset-password-errors', async (page) => {
        await page.$eval('form#account-form', (form) => form.setAttribute('novalidate', ''));
        await page.getByLabel('New password', { exact: true }).fill('short');
        await page.getByLabel('Confirm new password').fill('short');
        await page.getByRole('button', { name: 'Set new password' }).click();
        await expectText(page.locator('#new_password-error'), /^(Use at least 8 characters|New password must be)/);
      }));
  });
});

describe('REQUIRE_VERIFIED_EMAIL=true in Chromium', () => {
  let site: Site;
  let smtp: TestSmtp;
  beforeAll(async () => {
    ({ site, smtp } = await openMailSite({ REQUIRE_VERIFIED_EMAIL: 'true' }));
  });
  afterAll(async () => {
    await site?.close();
    await smtp?.close();
  });

  let n = 0;

  /** Sign-in refused until verified, "Send the link again", the new link used, then signed in. */
  async function journey(context: BrowserContext, page: Page, problems: PageProblems, js: boolean): Promise<void> {
    const user = await signup(site.t.http, { email: `required${++n}${js ? '' : '-nojs'}-${Date.now()}@example.com` });
    await fillSignIn(page, user.email, user.password);
    if (js) await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    else expect(await submitAndWait(page, 'Sign in')).toBe(403);
    await expectText(
      page.locator('#form-error'),
      'Your e-mail address is not verified yet. Use the link we sent to it, or have it sent again.',
    );
    const resend = page.getByRole('button', { name: 'Send the link again' });
    await resend.waitFor();
    // axe needs JavaScript in the page; the markup is the same either way.
    if (js) await screenshots(page, 'login-unverified', accessibleAndFits(page));
    else await screenshots(page, 'login-unverified-plain-post');

    const since = smtp.messages.length;
    if (js) await resend.click();
    else expect(await submitAndWait(page, 'Send the link again')).toBe(200);
    await expectText(
      page.locator('#notice'),
      /^If that account still needs its e-mail address verified, we sent a new link to it\./,
    );
    expect(await resend.isHidden()).toBe(true);
    const mail = await mailTo(site, smtp, user.email, since);
    expect(mail.subject).toBe('Confirm your e-mail address');

    await page.goto(linkIn(mail, 'verify_email_page'));
    if (js) await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
    else expect(await submitAndWait(page, 'Confirm my e-mail address')).toBe(200);
    await expectText(page.locator('#notice'), 'Your e-mail address is verified.');

    await fillSignIn(page, user.email, user.password);
    if (js) await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    else expect(await submitAndWait(page, 'Sign in')).toBe(200);
    await page.waitForURL('/userpage');
    expect(await page.locator('#verify-banner').isHidden()).toBe(true);
    expect(problems.errors).toEqual([]);
    await context.close();
  }

  it('with JavaScript: the sign-in refused with the offer to resend, resent, verified, signed in', async () => {
    const { context, page, problems } = await newBrowser(site);
    await journey(context, page, problems, true);
  });

  it('without JavaScript: the same as plain HTML forms', async () => {
    const { context, page, problems } = await newBrowser(site, { javaScriptEnabled: false });
    await journey(context, page, problems, false);
  });
});
