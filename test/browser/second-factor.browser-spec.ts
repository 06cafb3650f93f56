/// <reference lib="dom" />
import { readFileSync } from 'node:fs';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import request from 'supertest';
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
  type Site,
} from './browser';

/**
 * The authenticator app as a person uses it in Chromium: set up from the dashboard (a QR code, or
 * the key typed in; a first code; ten recovery codes shown once), then asked for at each sign-in,
 * with JavaScript (in place on the sign-in page) and without (a page of its own). The codes are
 * computed here, as an app would, at the server's clock (a fake one the test moves on).
 */
const accessibleAndFits =
  (page: Page) =>
  async ({ width }: Look): Promise<void> => {
    expect(await axeViolations(page)).toEqual([]);
    if (width === 'phone') expect(await overflowsSideways(page)).toBe(false);
  };

describe('The authenticator app and the second step in Chromium', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite();
  });
  afterAll(() => site.close());

  let n = 0;
  const newUser = () => signup(site.t.http, { email: `totp${++n}-${Date.now()}@example.com` });

  /** The code an app shows now for `secret` (base32), "now" being the server's. */
  function codeFor(secret: string, offsetSteps = 0): string {
    const totp = new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30 });
    return totp.generate({ timestamp: site.t.clock.now().getTime() + offsetSteps * 30_000 });
  }

  /** Moves the server's clock into the next 30-second step, so the next code is a new one. */
  const nextStep = () => site.t.clock.advance(30);

  /** The app turned on through the API; its secret and recovery codes. */
  async function withApp(user: TestUser): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { cookie } = await login(site.t.http, user, 'Setup device');
    const setup = await request(site.t.http).post('/totp/setup').set('Cookie', cookie).expect(200);
    const secret = (setup.body as { secret: string }).secret;
    const confirmed = await request(site.t.http)
      .post('/totp/confirm')
      .set('Cookie', cookie)
      .send({ code: codeFor(secret) })
      .expect(200);
    await request(site.t.http).post('/logout').set('Cookie', cookie).expect(200);
    nextStep(); // the code used to confirm is spent
    return { secret, recoveryCodes: (confirmed.body as { recovery_codes: string[] }).recovery_codes };
  }

  async function typePassword(page: Page, user: TestUser): Promise<void> {
    await page.goto('/login_page');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
  }

  it('sets the app up from the dashboard: QR code and key, a first code, ten recovery codes shown once; new codes; off', async () => {
    const user = await newUser();
    await login(site.t.http, user, 'Other device');
    const { context, page, problems } = await newBrowser(site, { acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await signIn(context, user);
    await page.goto('/userpage');
    const card = page.locator('.card.totp');
    await expectText(card.locator('#totp-state'), 'Off');
    site.t.clock.advance(601); // setting up needs the password proved again

    await card.getByRole('button', { name: 'Set up an authenticator app', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.waitFor();
    await expectText(page.locator('#reauth-text'), 'Enter your password to set up an authenticator app.');
    await dialog.getByLabel('Password').fill(user.password);
    await dialog.getByRole('button', { name: 'Confirm' }).click();

    // The QR code (the server's SVG, as an image), the key to type, and the otpauth:// link.
    const qr = card.getByRole('img', { name: 'QR code to add this account to an authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    const secret = ((await card.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = (await card.getByRole('link', { name: 'open it in the authenticator app' }).getAttribute('href')) ?? '';
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(new URL(uri).searchParams.get('secret')).toBe(secret);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('totp-code');
    await screenshots(page, 'dashboard-totp-setup', accessibleAndFits(page));

    // A wrong first code, then the right one.
    const code = card.getByLabel('Enter the 6-digit code the app shows');
    await code.fill(codeFor(secret) === '000000' ? '111111' : '000000');
    await card.getByRole('button', { name: 'Turn on' }).click();
    await expectText(card.locator('#totp-code-error'), 'That code is not right. Enter the one the app shows now.');
    await code.fill(codeFor(secret));
    await card.getByRole('button', { name: 'Turn on' }).click();

    await expectText(card.locator('#totp-state'), 'On');
    const codes = card.locator('#recovery-list code');
    await expectText(codes.first(), /./);
    const shown = await codes.allTextContents();
    expect(shown).toHaveLength(10);
    expect(new Set(shown).size).toBe(10);
    await card.locator('#totp-offer').getByRole('button', { name: 'End the 1 other session' }).waitFor();
    await screenshots(page, 'dashboard-recovery-codes', accessibleAndFits(page));

    // Copied and downloaded as text, every code in it.
    await card.getByRole('button', { name: 'Copy', exact: true }).click();
    await expectText(card.locator('#copy-status'), 'Copied.');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download as text' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('recovery-codes.txt');
    const file = readFileSync((await download.path()) ?? '', 'utf8');
    for (const text of [copied, file]) {
      expect(text).toContain(user.email);
      for (const recovery of shown) expect(text).toContain(recovery);
    }
    // Shown once: gone when put away, and not there after a reload.
    await card.getByRole('button', { name: 'I have saved them' }).click();
    expect(await card.locator('#recovery-codes').isHidden()).toBe(true);
    await page.reload();
    await expectText(card.locator('#totp-state'), 'On');
    expect(await page.locator('main').innerText()).not.toContain(shown[0]);

    // New recovery codes: ten others, the old ones void.
    await card.getByRole('button', { name: 'New recovery codes' }).click();
    await expectText(card.locator('#totp-notice'), 'New recovery codes made: the old ones no longer work.');
    const renewed = await card.locator('#recovery-list code').allTextContents();
    expect(renewed).toHaveLength(10);
    expect(renewed.filter((c) => shown.includes(c))).toEqual([]);
    await card.getByRole('button', { name: 'I have saved them' }).click();

    // Turning it off needs the password proved recently, too.
    site.t.clock.advance(601);
    await card.getByRole('button', { name: 'Turn off' }).click();
    await dialog.waitFor();
    await expectText(page.locator('#reauth-text'), 'Enter your password to turn off the authenticator app.');
    await dialog.getByLabel('Password').fill(user.password);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expectText(card.locator('#totp-state'), 'Off');
    await expectText(card.locator('#totp-notice'), /^The authenticator app is off/);
    // Signing in needs only the password again.
    const res = await request(site.t.http).post('/login').send({ email: user.email, password: user.password });
    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty('session');
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('asks for the code after the password, in place (JavaScript); a wrong and a reused code are refused', async () => {
    const user = await newUser();
    const { secret } = await withApp(user);
    const { context, page, problems } = await newBrowser(site);
    await typePassword(page, user);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    const step = page.locator('#second-step');
    await step.waitFor();
    await expectText(page.getByRole('heading', { level: 1 }), 'Two-step verification');
    expect(await page.locator('#auth-form').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('code');
    // No session yet: only the pending sign-in's cookie (Path=/login).
    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name)).toEqual(['second_factor']);
    expect(cookies[0]).toMatchObject({ path: '/login', httpOnly: true, sameSite: 'Lax' });
    await screenshots(page, 'login-second-step', accessibleAndFits(page));

    const code = page.getByLabel('Code from your authenticator app');
    await code.fill(codeFor(secret, 3));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectText(page.locator('#form-error'), /^The code is not correct/);
    const used = codeFor(secret);
    await code.fill(used);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('/userpage');
    await expectText(page.locator('.session.current .method'), 'Password + authenticator app');

    // The same code again (another browser, within its 30 seconds or the next): refused, it was used.
    const other = await newBrowser(site);
    await typePassword(other.page, user);
    await other.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.page.getByLabel('Code from your authenticator app').fill(used);
    await other.page.getByRole('button', { name: 'Verify' }).click();
    await expectText(other.page.locator('#form-error'), /^The code is not correct \(or was already used\)/);
    // The next one works.
    nextStep();
    await other.page.getByLabel('Code from your authenticator app').fill(codeFor(secret));
    await other.page.getByRole('button', { name: 'Verify' }).click();
    await other.page.waitForURL('/userpage');
    expect(problems.errors).toEqual([]);
    expect(other.problems.errors).toEqual([]);
    await other.context.close();
    await context.close();
  });

  it('takes a recovery code instead, once each', async () => {
    const user = await newUser();
    const { recoveryCodes } = await withApp(user);
    const { context, page, problems } = await newBrowser(site);
    await typePassword(page, user);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    // Switched in place: the code field gone, the recovery code's there.
    expect(await page.getByLabel('Code from your authenticator app').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('recovery_code');
    await screenshots(page, 'login-second-step-recovery', accessibleAndFits(page));
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('/userpage');
    await expectText(page.locator('.session.current .method'), 'Password + authenticator app');

    const again = await newBrowser(site);
    await typePassword(again.page, user);
    await again.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await again.page.getByRole('link', { name: 'Use a recovery code' }).click();
    await again.page.getByLabel('Recovery code').fill(recoveryCodes[0]);
    await again.page.getByRole('button', { name: 'Verify' }).click();
    await expectText(again.page.locator('#form-error'), /./);
    expect(new URL(again.page.url()).pathname).toBe('/login_page');
    // Another of the ten still works.
    await again.page.getByLabel('Recovery code').fill(recoveryCodes[1]);
    await again.page.getByRole('button', { name: 'Verify' }).click();
    await again.page.waitForURL('/userpage');
    expect(problems.errors).toEqual([]);
    expect(again.problems.errors).toEqual([]);
    await again.context.close();
    await context.close();
  });

  it('works without JavaScript: the sign-in form post leads to a page of its own for the code', async () => {
    const user = await newUser();
    const { secret, recoveryCodes } = await withApp(user);
    const { context, page } = await newBrowser(site, { javaScriptEnabled: false });
    await typePassword(page, user);
    expect(await submitAndWait(page, 'Sign in')).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/login_second_factor_page');
    await expectText(page.getByRole('heading', { level: 1 }), 'Two-step verification');
    await screenshots(page, 'login-second-factor-plain');

    await page.getByLabel('Code from your authenticator app').fill(codeFor(secret, -3));
    expect(await submitAndWait(page, 'Verify')).toBe(401);
    await expectText(page.locator('#form-error'), /^The code is not correct/);
    expect(await page.getByLabel('Code from your authenticator app').inputValue()).toBe('');
    await screenshots(page, 'login-second-factor-plain-error');
    await page.getByLabel('Code from your authenticator app').fill(codeFor(secret));
    expect(await submitAndWait(page, 'Verify')).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/userpage');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('/login_page?notice=signed_out');

    // A recovery code, by the link to the page with that field.
    await typePassword(page, user);
    expect(await submitAndWait(page, 'Sign in')).toBe(200);
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.waitForURL('/login_second_factor_page?use=recovery_code');
    await page.getByLabel('Recovery code').fill(recoveryCodes[2]);
    expect(await submitAndWait(page, 'Verify')).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/userpage');
    await context.close();
  });

  it('second-factor page: accessible, fits a phone, screenshots (either field)', async () => {
    const { context, page, problems } = await newBrowser(site);
    for (const query of ['', '?use=recovery_code']) {
      await page.goto(`/login_second_factor_page${query}`);
      await screenshots(page, `login-second-factor${query ? '-recovery' : ''}`, accessibleAndFits(page));
    }
    // With JavaScript, the link switches the field in place.
    await page.getByRole('link', { name: 'Use the authenticator app' }).click();
    expect(await page.getByLabel('Code from your authenticator app').isVisible()).toBe(true);
    expect(new URL(page.url()).search).toBe('?use=recovery_code');
    // Without a pending sign-in (none started here), the post is refused with what to do.
    await page.getByLabel('Code from your authenticator app').fill('123456');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectText(page.locator('#form-error'), /sign in with your password again$/);
    expect(await axeViolations(page)).toEqual([]);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('gives the pending sign-in nothing a session gives: /userpage and /session_status refuse it', async () => {
    const user = await newUser();
    await withApp(user);
    const { context, page } = await newBrowser(site);
    await typePassword(page, user);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#second-step').waitFor();
    const pending = (await context.cookies()).find((c) => c.name === 'second_factor')?.value ?? '';
    expect(pending).not.toBe('');

    // The browser itself: sent to sign in from the dashboard, its status refused.
    await page.goto('/userpage');
    expect(new URL(page.url()).pathname).toBe('/login_page');
    expect((await context.request.get('/session_status')).status()).toBe(401);
    // The pending token presented as a session, every way a session is: refused.
    for (const auth of [{ Cookie: `session_token=${pending}` }, { Authorization: `Bearer ${pending}` }]) {
      for (const path of ['/session_status', '/userpage', '/active_sessions', '/passkeys', '/totp']) {
        expect((await request(site.t.http).get(path).set(auth)).status).toBe(401);
      }
    }
    await context.close();
  });
});
