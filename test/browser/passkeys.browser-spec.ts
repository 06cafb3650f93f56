/// <reference lib="dom" />
import type { BrowserContext, Page, Request } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { login, signup, type TestUser } from '../utils/test-app';
import {
  addAuthenticator,
  axeViolations,
  expectText,
  newBrowser,
  openSite,
  overflowsSideways,
  screenshots,
  signIn,
  withoutPasskeyAutofill,
  type Authenticator,
  type Look,
  type PageProblems,
  type Site,
} from './browser';

/**
 * Passkeys as a person uses them in Chromium, against the app served as http://localhost:<port>
 * (PUBLIC_URL, so the relying-party ID is `localhost`), with Chromium's virtual authenticator
 * standing in for the device's own (resident keys, user verification): added from the dashboard,
 * used to sign in (the button, and the e-mail field's autofill), to prove it is you again, and
 * refused when it should be (no user verification, another site's, replayed, a counter gone back,
 * removed).
 */
const accessibleAndFits =
  (page: Page) =>
  async ({ width }: Look): Promise<void> => {
    expect(await axeViolations(page)).toEqual([]);
    if (width === 'phone') expect(await overflowsSideways(page)).toBe(false);
  };

interface Device {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  authenticator: Authenticator;
}

describe('Passkeys in Chromium', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite({}, { host: 'localhost', captureLogs: true });
  });
  afterAll(() => site.close());

  let n = 0;
  const newUser = () => signup(site.t.http, { email: `passkey${++n}-${Date.now()}@example.com` });

  /** A browser with a passkey-capable device, no autofill (so the sign-in page waits for a press). */
  async function device(options: Parameters<typeof addAuthenticator>[2] = {}): Promise<Device> {
    const { context, page, problems } = await newBrowser(site);
    await withoutPasskeyAutofill(context);
    const authenticator = await addAuthenticator(context, page, options);
    return { context, page, problems, authenticator };
  }

  /** "Add a passkey" on the dashboard, the browser signed in with the password moments ago. */
  async function addPasskey(page: Page): Promise<void> {
    await page.goto('/userpage');
    await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
    await expectText(page.locator('#passkeys-notice'), /^Passkey added: “.+”\. You can sign in with it from now on\.$/);
  }

  /** The request body the page posts to `path`, recorded as it goes. */
  function recordPost(page: Page, path: string): () => string | null {
    let body: string | null = null;
    page.on('request', (r: Request) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === path) body = r.postData();
    });
    return () => body;
  }

  async function pressPasskeyButton(page: Page): Promise<void> {
    await page.goto('/login_page');
    await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click();
  }

  it('adds a passkey from the dashboard (asking for the password when it is old), then signs in with it', async () => {
    const user = await newUser();
    await login(site.t.http, user, 'Other device');
    const { context, page, problems, authenticator } = await device();
    await signIn(context, user);
    await page.goto('/userpage');
    await expectText(page.locator('#passkey-list .empty'), 'No passkeys yet.');
    site.t.clock.advance(601); // past REAUTH_MAX_AGE: adding one needs the password again

    await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.waitFor();
    await expectText(page.locator('#reauth-text'), 'Enter your password to add a passkey.');
    // No passkey yet, so none offered in the prompt.
    expect(await dialog.getByRole('button', { name: 'Use a passkey' }).isVisible()).toBe(false);
    await dialog.getByLabel('Password').fill(user.password);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expectText(page.locator('#passkeys-notice'), /^Passkey added: “Chrome Headless on Linux”\./);
    expect(await authenticator.credentials()).toHaveLength(1);

    const row = page.locator('#passkey-list .passkey');
    await expectText(row.locator('.name'), 'Chrome Headless on Linux');
    // (The server's clock is 10 minutes ahead of the browser's here: "added in 10 minutes".)
    await expectText(row.locator('.meta'), /^added .+ on Chrome Headless on Linux \(desktop\) · last used never$/);
    // The session signed in elsewhere before the change: the offer to end it.
    const offer = page.locator('#passkeys-offer');
    await offer.getByRole('button', { name: 'End the 1 other session' }).waitFor();
    await screenshots(page, 'dashboard-passkey-added', accessibleAndFits(page));
    await offer.getByRole('button', { name: 'End the 1 other session' }).click();
    await expectText(page.locator('#page-status'), 'Signed out 1 other session.');
    expect(await offer.isHidden()).toBe(true);

    // Renamed in place.
    await row.getByRole('button', { name: 'Rename Chrome Headless on Linux' }).click();
    await row.getByLabel('New name for Chrome Headless on Linux').fill('  Work laptop ');
    await row.getByRole('button', { name: 'Save' }).click();
    await expectText(page.locator('#passkeys-notice'), 'Renamed to “Work laptop”.');
    await expectText(page.locator('#passkey-list .passkey .name'), 'Work laptop');

    // Signed out, then in again with the passkey alone: no e-mail, no password.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('/login_page?notice=signed_out');
    const posted = recordPost(page, '/login/passkey');
    await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click();
    await page.waitForURL('/userpage');
    expect(JSON.parse(posted() ?? '{}')).toMatchObject({ response: { type: 'public-key' }, remember_me: false });
    // The session says how it was made; the passkey when it was last used.
    await expectText(page.locator('.session.current .method'), 'Passkey');
    await expectText(page.locator('#passkey-list .passkey .meta'), /· last used (?!never).+$/);
    const status = await context.request.get('/session_status');
    expect(((await status.json()) as { session: { amr: string[] } }).session.amr).toEqual(['hwk', 'mfa']);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('signs in through the e-mail field: a conditional request, made on load, answered by the authenticator', async () => {
    const user = await newUser();
    const registered = await device();
    await signIn(registered.context, user);
    await addPasskey(registered.page);
    const [credential] = await registered.authenticator.credentials();
    await registered.context.close();

    // The same passkey on a browser with autofill (isConditionalMediationAvailable() true here).
    const { context, page, problems } = await newBrowser(site);
    const mediations: string[] = [];
    await context.exposeFunction('noteMediation', (mediation: string) => mediations.push(mediation));
    await context.addInitScript(() => {
      const get = navigator.credentials.get.bind(navigator.credentials);
      navigator.credentials.get = (options?: CredentialRequestOptions) => {
        void (window as unknown as { noteMediation(m: string): void }).noteMediation(
          String(options?.mediation ?? 'optional'),
        );
        return get(options);
      };
    });
    const authenticator = await addAuthenticator(context, page);
    await authenticator.cdp.send('WebAuthn.addCredential', {
      authenticatorId: authenticator.authenticatorId,
      credential,
    });
    await page.goto('/login_page');
    // Chromium's virtual authenticator environment has no passkey picker to drive: it answers a
    // conditional request at once with the passkey, as a person picking it in the autofill would.
    await page.waitForURL('/userpage');
    expect(mediations).toEqual(['conditional']);
    await expectText(page.locator('.session.current .method'), 'Passkey');
    // The field that offers passkeys in its autofill.
    const html = await request(site.t.http).get('/login_page').expect(200);
    expect(html.text).toMatch(/<input id="email" name="email" type="email" autocomplete="username webauthn"/);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('proves it is you again with a passkey instead of the password (a new auth_time)', async () => {
    const user = await newUser();
    const { context, page, problems } = await device();
    await signIn(context, user);
    await addPasskey(page);
    await login(site.t.http, user, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0');
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await expectText(page.locator('#session-count'), '2');
    site.t.clock.advance(601);

    await page.getByRole('button', { name: 'Sign out Firefox on Windows (desktop)' }).click();
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.waitFor();
    const usePasskey = dialog.getByRole('button', { name: 'Use a passkey' });
    expect(await usePasskey.isVisible()).toBe(true);
    await screenshots(page, 'dashboard-reauth-passkey', accessibleAndFits(page));
    const before = Date.parse(
      ((await (await context.request.get('/session_status')).json()) as { session: { auth_time: string } }).session
        .auth_time,
    );
    await usePasskey.click();
    await dialog.waitFor({ state: 'hidden' });
    // The click is carried out once proved, without pressing again.
    await expectText(page.locator('#page-status'), 'Signed out Firefox on Windows (desktop).');
    const after = Date.parse(
      ((await (await context.request.get('/session_status')).json()) as { session: { auth_time: string } }).session
        .auth_time,
    );
    expect(after - before).toBeGreaterThanOrEqual(601_000);
    // The session is still the one made with the password: a step-up changes its auth_time, not its amr.
    await expectText(page.locator('.session.current .method'), 'Password');
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('refuses a passkey used without user verification (the server requires it)', async () => {
    const user = await newUser();
    const registered = await device();
    await signIn(registered.context, user);
    await addPasskey(registered.page);
    const [credential] = await registered.authenticator.credentials();
    await registered.context.close();

    // The same passkey on a device that cannot verify its user (no PIN, no fingerprint).
    const { context, page, authenticator } = await device({ isUserVerified: false });
    await authenticator.cdp.send('WebAuthn.addCredential', {
      authenticatorId: authenticator.authenticatorId,
      credential,
    });
    const asked = recordPost(page, '/login/passkey');
    // As the server asks (userVerification "required"), Chromium itself refuses to use it: nothing is sent.
    await pressPasskeyButton(page);
    await expectText(page.locator('#form-error'), 'No passkey was used: the request was cancelled or timed out.');
    expect(asked()).toBeNull();

    // A browser that asked for less (the options changed on the way): the server still refuses.
    await page.route('**/login/passkey_options', async (route) => {
      const response = await route.fetch();
      const options = (await response.json()) as Record<string, unknown>;
      await route.fulfill({ response, json: { ...options, userVerification: 'discouraged' } });
    });
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/login/passkey');
    await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click();
    expect((await answer).status()).toBe(401);
    await expectText(page.locator('#form-error'), 'That passkey was not accepted. Try again, or use your password.');
    expect(new URL(page.url()).pathname).toBe('/login_page');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('session_token');
    await context.close();
  });

  it("refuses another site's passkey, even one made with the same key", async () => {
    const user = await newUser();
    const registered = await device();
    await signIn(registered.context, user);
    await addPasskey(registered.page);
    const [credential] = await registered.authenticator.credentials();
    await registered.context.close();

    // other.localhost: another origin and another relying party (Chromium resolves it to this
    // server and treats it as secure). The same credential id and private key, registered there.
    const { context, page } = await newBrowser(site, {
      baseURL: site.base.replace('//localhost', '//other.localhost'),
    });
    await withoutPasskeyAutofill(context);
    const authenticator = await addAuthenticator(context, page);
    await authenticator.cdp.send('WebAuthn.addCredential', {
      authenticatorId: authenticator.authenticatorId,
      credential: { ...credential, rpId: 'other.localhost' },
    });
    // The page there asks its browser for that relying party's passkey (the server's options name `localhost`).
    await context.addInitScript(() => {
      const parse = PublicKeyCredential.parseRequestOptionsFromJSON.bind(PublicKeyCredential);
      PublicKeyCredential.parseRequestOptionsFromJSON = (options) => parse({ ...options, rpId: 'other.localhost' });
    });
    const posted = recordPost(page, '/login/passkey');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/login/passkey');
    await pressPasskeyButton(page);
    expect((await answer).status()).toBe(401);
    await expectText(page.locator('#form-error'), 'That passkey was not accepted. Try again, or use your password.');

    // Sent again by a client that is no browser (no Origin to check), the foreign assertion is refused as well.
    const again = await request(site.t.http)
      .post('/login/passkey')
      .send(JSON.parse(posted() ?? '{}') as object);
    expect(again.status).toBe(401);
    expect(again.headers['set-cookie']).toBeUndefined();
    await context.close();
  });

  it('refuses a replayed assertion and a signature counter that went back', async () => {
    const user = await newUser();
    const { context, page, problems, authenticator } = await device();
    await signIn(context, user);
    await addPasskey(page);
    await context.clearCookies();

    const posted = recordPost(page, '/login/passkey');
    await pressPasskeyButton(page);
    await page.waitForURL('/userpage');
    // The same signed answer again (its challenge spent): no session.
    const replay = await request(site.t.http)
      .post('/login/passkey')
      .send(JSON.parse(posted() ?? '{}') as object)
      .expect(401);
    expect(replay.headers['set-cookie']).toBeUndefined();

    // A cloned authenticator: its counter behind the one the server saw last.
    const [credential] = await authenticator.credentials();
    expect(credential.signCount).toBeGreaterThan(1);
    await authenticator.cdp.send('WebAuthn.removeCredential', {
      authenticatorId: authenticator.authenticatorId,
      credentialId: credential.credentialId,
    });
    await authenticator.cdp.send('WebAuthn.addCredential', {
      authenticatorId: authenticator.authenticatorId,
      credential: { ...credential, signCount: 0 },
    });
    await context.clearCookies();
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/login/passkey');
    await pressPasskeyButton(page);
    expect((await answer).status()).toBe(401);
    await expectText(page.locator('#form-error'), 'That passkey was not accepted. Try again, or use your password.');
    // Refused for its counter, and logged so.
    const regressions = site.t.logs
      .map((line) => JSON.parse(line) as { event?: string; user_id?: number })
      .filter((line) => line.event === 'passkey_counter_regression' && line.user_id === user.id);
    expect(regressions).toHaveLength(1);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('removes a passkey, which then no longer signs in', async () => {
    const user = await newUser();
    const { context, page, problems } = await device();
    await signIn(context, user);
    await addPasskey(page);
    await login(site.t.http, user, 'Other device');
    site.t.clock.advance(601);
    await page.reload();
    const row = page.locator('#passkey-list .passkey');
    await row.getByRole('button', { name: 'Remove Chrome Headless on Linux' }).click();
    // Removing needs it proved again: here with the passkey itself.
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.waitFor();
    await expectText(page.locator('#reauth-text'), 'Enter your password to remove Chrome Headless on Linux.');
    await dialog.getByRole('button', { name: 'Use a passkey' }).click();
    await expectText(page.locator('#passkeys-notice'), 'Removed Chrome Headless on Linux. It no longer signs you in.');
    await expectText(page.locator('#passkey-list .empty'), 'No passkeys yet.');
    await page.locator('#passkeys-offer').getByRole('button', { name: 'End the 1 other session' }).waitFor();
    expect(await (await context.request.get('/passkeys')).json()).toEqual({ passkeys: [] });

    // The device still holds it (nothing tells it); the server refuses it.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('/login_page?notice=signed_out');
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/login/passkey');
    await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click();
    expect((await answer).status()).toBe(401);
    await expectText(page.locator('#form-error'), 'That passkey was not accepted. Try again, or use your password.');
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('sign-in page with passkeys: accessible, fits a phone, screenshots; no passkey control without WebAuthn', async () => {
    const { context, page, problems } = await device();
    await page.goto('/login_page');
    await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).waitFor();
    await screenshots(page, 'login-passkey', accessibleAndFits(page));
    expect(problems.errors).toEqual([]);
    await context.close();

    const old = await newBrowser(site);
    await old.context.addInitScript(() => {
      delete (window as unknown as { PublicKeyCredential?: unknown }).PublicKeyCredential;
    });
    const user: TestUser = await newUser();
    await old.page.goto('/login_page');
    await old.page.locator('#auth-form').waitFor();
    expect(await old.page.locator('#passkey-signin').isHidden()).toBe(true);
    await signIn(old.context, user);
    await old.page.goto('/userpage');
    await expectText(old.page.locator('#passkey-list .empty'), 'No passkeys yet.');
    expect(await old.page.getByRole('button', { name: 'Add a passkey' }).isHidden()).toBe(true);
    await expectText(old.page.locator('#passkeys-unsupported'), /^This browser cannot create or use passkeys\./);
    expect(old.problems.errors).toEqual([]);
    await old.context.close();
  });

  it('offers the passkey at the second step of an account with an authenticator app too', async () => {
    const user = await newUser();
    const { context, page, problems } = await device();
    await signIn(context, user);
    await addPasskey(page);
    const setup = await context.request.post('/totp/setup');
    const { secret } = (await setup.json()) as { secret: string };
    const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
    const confirm = await context.request.post('/totp/confirm', {
      data: { code: totp.generate({ timestamp: site.t.clock.now().getTime() }) },
    });
    expect(confirm.status()).toBe(200);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('/login_page?notice=signed_out');

    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#second-step').waitFor();
    await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click();
    await page.waitForURL('/userpage');
    await expectText(page.locator('.session.current .method'), 'Passkey');
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});
