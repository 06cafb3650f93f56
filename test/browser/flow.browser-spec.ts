/// <reference lib="dom" />
import { Session } from '../../src/sessions/session.entity';
import { signup } from '../utils/test-app';
import { User } from '../../src/users/user.entity';
import { expectText, newBrowser, openSite, submitAndWait, tabToNextInput, type Site } from './browser';

/**
 * The original guide's browser flow ("go to /signup_page, create an account, go to /login_page,
 * log in, check /session_status, log out"), in real Chromium, with and without JavaScript.
 */
describe('The browser flow of the original guide', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite({ LOGIN_LIMIT_ACCOUNT_ADDRESS: '3' });
  });
  afterAll(() => site.close());

  let n = 0;
  const email = () => `person${++n}@example.com`;

  it('works with JavaScript: sign up, sign in, see the session, sign out', async () => {
    const { context, page, problems } = await newBrowser(site);
    const address = email();

    await page.goto('/signup_page');
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Phone').fill('+44 20 7946 0958');
    await page.getByLabel('Email').fill(address.toUpperCase());
    await page.getByLabel('Password').fill('correct horse battery');
    // With JavaScript the form is sent as JSON by the page's script, not as a plain form post.
    const [post] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/signup'),
      page.getByRole('button', { name: 'Create account' }).click(),
    ]);
    expect(post.headers()['content-type']).toBe('application/json');

    await page.waitForURL('/login_page?notice=account_created');
    await expectText(page.locator('#notice'), 'Account created. Sign in to continue.');
    const user = await site.t.dataSource.getRepository(User).findOneByOrFail({ email: address });
    expect(user.name).toBe('Ada Lovelace');

    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('/userpage');
    await expectText(page.getByRole('heading', { level: 1 }), 'Ada Lovelace');
    await expectText(page.locator('.session.current .device-name'), /Chrome.* on Linux/);
    await expectText(page.locator('.session.current .this-device'), 'This device');

    // Step 5 of the guide: the session status, as the browser shows it.
    const status = await page.goto('/session_status');
    expect(status?.status()).toBe(200);
    expect(JSON.parse(await page.locator('body').innerText())).toMatchObject({
      authenticated: true,
      user: { email: address },
    });

    await page.goto('/userpage');
    const [row] = await site.t.dataSource.getRepository(Session).findBy({ userId: user.id });
    expect(row.isActive).toBe(true);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('/login_page?notice=signed_out');
    await expectText(page.locator('#notice'), 'You have signed out.');
    expect((await site.t.dataSource.getRepository(Session).findOneByOrFail({ id: row.id })).isActive).toBe(false);
    // The session cookie is gone; the known-device cookie stays (it authenticates nobody: a login
    // still needs the password, docs/SECURITY.md "Known devices").
    expect((await context.cookies()).map((c) => c.name)).toEqual(['device']);

    // Signed out, the dashboard sends the browser to sign in, and signing in lands back on it.
    await page.goto('/userpage');
    expect(new URL(page.url()).pathname).toBe('/login_page');
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL('/userpage');

    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('works without JavaScript: plain form posts, errors come back on the page with the typed values', async () => {
    const { context, page } = await newBrowser(site, { javaScriptEnabled: false });
    const address = email();

    await page.goto('/signup_page');
    await page.getByLabel('Name').fill('Grace Hopper');
    await page.getByLabel('Phone').fill('555 0100');
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('short');
    // The browser's own checks (minlength) would stop this post; a server must cope without them.
    await page.$eval('form', (form) => form.setAttribute('novalidate', ''));
    const refused = await submitAndWait(page, 'Create account');
    expect(refused).toBe(400);
    await expectText(page.locator('#password-error'), 'Password must be between 8 and 72 bytes (UTF-8).');
    expect(await page.getByLabel('Name').inputValue()).toBe('Grace Hopper');
    expect(await page.getByLabel('Email').inputValue()).toBe(address);
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Password').fill('correct horse battery');
    expect(await submitAndWait(page, 'Create account')).toBe(200);
    expect(page.url()).toBe(`${site.base}/login_page?notice=account_created`);
    await expectText(page.locator('#notice'), 'Account created. Sign in to continue.');

    // The same email again: 409, shown beside the email field.
    await page.goto('/signup_page');
    await page.getByLabel('Name').fill('Someone Else');
    await page.getByLabel('Phone').fill('555 0199');
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('another password');
    expect(await submitAndWait(page, 'Create account')).toBe(409);
    await expectText(page.locator('#email-error'), 'An account with this email already exists.');
    expect(await page.getByLabel('Name').inputValue()).toBe('Someone Else');

    await page.goto('/login_page');
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('wrong password');
    expect(await submitAndWait(page, 'Sign in')).toBe(401);
    await expectText(page.locator('#form-error'), 'Invalid email or password');
    expect(await page.getByLabel('Email').inputValue()).toBe(address);
    expect(await page.getByLabel('Password').inputValue()).toBe('');

    await page.getByLabel('Password').fill('correct horse battery');
    expect(await submitAndWait(page, 'Sign in')).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/userpage');
    await expectText(page.getByRole('heading', { level: 1 }), 'Grace Hopper');
    await expectText(page.locator('noscript'), /need JavaScript/);

    expect(await submitAndWait(page, 'Sign out')).toBe(200);
    expect(page.url()).toBe(`${site.base}/login_page?notice=signed_out`);
    await page.goto('/userpage');
    expect(new URL(page.url()).pathname).toBe('/login_page');
    await context.close();
  });

  it('shows throttling without JavaScript, with the wait', async () => {
    const { context, page } = await newBrowser(site, { javaScriptEnabled: false });
    await page.goto('/login_page');
    const address = email();
    for (let i = 0; i < 3; i++) {
      await page.getByLabel('Email').fill(address);
      await page.getByLabel('Password').fill('not the password');
      expect(await submitAndWait(page, 'Sign in')).toBe(401);
    }
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('not the password');
    expect(await submitAndWait(page, 'Sign in')).toBe(429);
    await expectText(page.locator('#form-error'), /^Too many attempts\. Try again in \d+ (seconds|minutes)\.$/);
    await context.close();
  });

  it('signs in by keyboard alone', async () => {
    const address = email();
    const { context, page, problems } = await newBrowser(site);
    await page.goto('/signup_page');
    await page.keyboard.press('Tab'); // the skip link
    await page.keyboard.press('Enter');
    for (const value of ['Key Board', '555 0123', address, 'correct horse battery']) {
      await tabToNextInput(page);
      await page.keyboard.type(value);
    }
    await page.keyboard.press('Enter');
    await page.waitForURL('/login_page?notice=account_created');
    await tabToNextInput(page);
    await page.keyboard.type(address);
    await tabToNextInput(page);
    await page.keyboard.type('correct horse battery');
    await page.keyboard.press('Enter');
    await page.waitForURL('/userpage');
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('"Keep me signed in": unticked, a cookie until the browser closes; ticked, one for 30 days; with and without JavaScript', async () => {
    const user = await signup(site.t.http);
    const DAY = 86_400;
    /** Signs in through the page, returning the cookie's expiry (-1: until the browser closes) and the session's own. */
    const signInWith = async (javaScriptEnabled: boolean, tick: boolean) => {
      const { context, page, problems } = await newBrowser(site, { javaScriptEnabled });
      await page.goto('/login_page');
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      const box = page.getByRole('checkbox', { name: 'Keep me signed in' });
      expect(await box.isChecked()).toBe(false);
      if (tick) await box.check();
      await Promise.all([
        page.waitForURL('/userpage'),
        page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ]);
      const [cookie] = await context.cookies();
      const status = await context.request.get('/session_status');
      const { session } = (await status.json()) as { session: { remember_me: boolean | null; expires_at: string } };
      expect(problems.errors).toEqual([]);
      await context.close();
      return { cookieExpires: cookie.expires, session, lifetime: (Date.parse(session.expires_at) - Date.now()) / 1000 };
    };

    // With JavaScript the page sends remember_me either way.
    const jsOff = await signInWith(true, false);
    expect(jsOff.cookieExpires).toBe(-1);
    expect(jsOff.session.remember_me).toBe(false);
    expect(jsOff.lifetime).toBeLessThanOrEqual(DAY);
    const jsOn = await signInWith(true, true);
    expect(jsOn.session.remember_me).toBe(true);
    expect(jsOn.lifetime).toBeGreaterThan(29 * DAY);
    expect(Math.abs(jsOn.cookieExpires - Date.parse(jsOn.session.expires_at) / 1000)).toBeLessThan(5);

    // Without JavaScript too: a ticked box posts remember_me=true, an unticked one nothing, read as false.
    const plainOn = await signInWith(false, true);
    expect(plainOn.session.remember_me).toBe(true);
    expect(Math.abs(plainOn.cookieExpires - Date.parse(plainOn.session.expires_at) / 1000)).toBeLessThan(5);
    const plainOff = await signInWith(false, false);
    expect(plainOff.session.remember_me).toBe(false);
    expect(plainOff.cookieExpires).toBe(-1);
  });

  it('keeps the session and device cookies HttpOnly, SameSite=Lax and out of reach of scripts', async () => {
    const user = await signup(site.t.http);
    const { context, page } = await newBrowser(site);
    await page.goto('/login_page');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('/userpage');

    const cookies = await context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: 'session_token', httpOnly: true, sameSite: 'Lax', path: '/' }),
      expect.objectContaining({ name: 'device', httpOnly: true, sameSite: 'Lax', path: '/' }),
    ]);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    // A script can still use the session (same origin, the browser attaches the cookie) but never read it.
    expect(await page.evaluate(async () => (await fetch('/session_status')).status)).toBe(200);
    await context.close();
  });
});
