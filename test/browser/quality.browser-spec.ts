/// <reference lib="dom" />
import request from 'supertest';
import { login, signup } from '../utils/test-app';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  DESKTOP,
  expectText,
  lineBreaks,
  newBrowser,
  openSite,
  overflowsSideways,
  PHONE,
  SCREENSHOTS,
  screenshots,
  axeViolations,
  signIn,
  type Look,
  type Site,
} from './browser';

/**
 * Each page, as a person meets it: no accessibility violation (axe-core), nothing wider than a
 * 360 px phone, no script error or CSP refusal, and screenshots for a person to look at
 * (artifacts/screenshots, desktop and phone, light and dark), each of the four looks checked.
 */
describe('Each page', () => {
  let site: Site;
  beforeAll(async () => {
    // Countries from the offline database, for addresses the test gives as X-Forwarded-For.
    site = await openSite({ GEOIP: 'true', TRUST_PROXY: 'loopback' });
  });
  afterAll(() => site.close());

  /** Checked in each of the four looks: no axe violation, and at phone width nothing wider than the screen. */
  const accessibleAndFits =
    (page: Page) =>
    async ({ width }: Look): Promise<void> => {
      expect(await axeViolations(page)).toEqual([]);
      if (width === 'phone') expect(await overflowsSideways(page)).toBe(false);
    };

  /**
   * The profile's facts that end a row short of the list's right edge (a hole beside them), by
   * their labels: none, when the grid balances.
   */
  const lonelyFacts = (page: Page) =>
    page.locator('.details').evaluate((list) => {
      const right = list.getBoundingClientRect().right;
      const rows = new Map<number, { right: number; labels: string[] }>();
      for (const fact of Array.from(list.children)) {
        const box = fact.getBoundingClientRect();
        if (box.height === 0) continue; // hidden
        const row = rows.get(Math.round(box.top)) ?? { right: 0, labels: [] };
        row.right = Math.max(row.right, box.right);
        row.labels.push(fact.querySelector('dt')?.textContent ?? '');
        rows.set(Math.round(box.top), row);
      }
      return [...rows.values()].filter((row) => right - row.right > 2).map((row) => row.labels);
    });

  it('is served with a strict CSP and no inline script or style', async () => {
    const user = await signup(site.t.http);
    const { cookie } = await login(site.t.http, user);
    for (const [path, auth] of [
      ['/signup_page', ''],
      ['/login_page', ''],
      ['/userpage', cookie],
    ] as const) {
      const res = await request(site.t.http).get(path).set('Accept', 'text/html').set('Cookie', auth).expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.text).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
      expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it('sign-up: accessible, fits a phone, screenshots', async () => {
    const { context, page, problems } = await newBrowser(site);
    await page.goto('/signup_page');
    // The password's length in characters, as a person counts, not in bytes.
    await expectText(
      page.locator('#password-hint'),
      '8 to 72 characters; letters beyond A–Z and emoji count as 2 or more.',
    );
    await screenshots(page, 'signup', accessibleAndFits(page));
    // With errors showing, too.
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectText(page.locator('#name-error'), 'Enter your name.');
    await screenshots(page, 'signup-errors', accessibleAndFits(page));
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('sign-in: accessible, fits a phone, screenshots', async () => {
    const { context, page, problems } = await newBrowser(site);
    await page.goto('/login_page?notice=account_created');
    await screenshots(page, 'login', accessibleAndFits(page));
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('dashboard: accessible with sessions, attempts and chat showing, fits a phone, screenshots', async () => {
    // A long address, as many are: it must wrap at its "@" or a ".", not inside a word.
    const ada = await signup(site.t.http, {
      name: 'Ada Lovelace',
      email: 'augusta.ada.lovelace@analytical-engine.example.com',
    });
    const grace = await signup(site.t.http, { name: 'Grace Hopper' });
    const graceSession = await login(
      site.t.http,
      grace,
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    );
    const signInFrom = (ip: string, userAgent: string, rememberMe?: boolean) =>
      request(site.t.http)
        .post('/login')
        .set('X-Forwarded-For', ip)
        .set('User-Agent', userAgent)
        .send({ email: ada.email, password: ada.password, remember_me: rememberMe })
        .expect(200);
    await signInFrom(
      '8.8.8.8',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
      true,
    );
    await signInFrom(
      '2001:4860:4860::8888',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      false,
    );
    await request(site.t.http)
      .post('/login')
      .set('X-Forwarded-For', '8.8.4.4')
      .send({ email: ada.email, password: 'a wrong guess' })
      .expect(401);
    await request(site.t.http)
      .post('/global_chat')
      .set('Cookie', graceSession.cookie)
      .send({ message: 'Has anyone seen the moth?' })
      .expect(201);
    await request(site.t.http)
      .post('/chats')
      .set('Cookie', graceSession.cookie)
      .send({ receiver_id: ada.id, message: 'Coffee at four?' })
      .expect(201);

    const { context, page, problems } = await newBrowser(site);
    await signIn(context, ada);
    await page.goto('/userpage');
    await expectText(page.locator('#global-messages .message-text'), 'Has anyone seen the moth?');
    await page.getByLabel('Message to everyone').fill('It was in relay 70.');
    await page.getByLabel('Message to everyone').press('Enter');
    await expectText(page.locator('#global-messages .message.mine .message-text'), 'It was in relay 70.');
    await page.locator('#conversation-list button').first().click();
    await expectText(page.locator('#private-messages .message-text'), 'Coffee at four?');
    await expectText(page.locator('#session-count'), '3');

    await expectText(page.locator('.session:not(.current) .new-device').first(), 'New');
    await expectText(page.locator('.session:not(.current) .country').first(), 'United States ·');

    // The rough edges of issue 19, mended: one control named "Sign out" (the page's, for this
    // browser; this device's row has none), only the previous sign-in, each session's end in one
    // phrase, and password lengths in characters.
    expect(await page.getByRole('button', { name: 'Sign out', exact: true }).count()).toBe(1);
    expect(await page.locator('#logout-form').getByRole('button', { name: 'Sign out', exact: true }).count()).toBe(1);
    expect(await page.locator('.session.current button').count()).toBe(0);
    await expectText(page.locator('.session.current .this-device'), 'This device');
    await expectText(page.locator('.session.current .ends'), 'ends in 24 hours');
    await expectText(
      page.locator('.session').filter({ hasText: 'Safari on iOS' }).locator('.ends'),
      'ends when the browser closes, or in 24 hours at the latest',
    );
    await expectText(
      page.locator('.session').filter({ hasText: 'Firefox on Windows' }).locator('.ends'),
      'kept signed in, ends in 4 weeks',
    );
    expect(await page.locator('.details dt').allTextContents()).toEqual([
      'Email',
      'Phone',
      'Member since',
      'Signed in on',
      'Previous sign-in',
    ]);
    await expectText(page.locator('#previous-login .meta'), /^· Safari on iOS \(mobile\), United States, 2001:/);
    expect(await page.locator('main').innerText()).not.toMatch(/bytes|Last sign-in|Until the browser closes/);

    await screenshots(page, 'dashboard', async (look) => {
      await accessibleAndFits(page)(look);
      // The address wraps only before its "@" (first) or a ".": never inside a word.
      const breaks = await lineBreaks(page, '.details .email');
      expect(breaks.filter(([, after]) => after !== '@' && after !== '.')).toEqual([]);
      expect(breaks[0]).toEqual(['e', '@']);
      expect(await lonelyFacts(page)).toEqual([]);
    });
    // Between the two, where the profile's facts go two by two.
    await page.setViewportSize({ width: 768, height: 1024 });
    expect(await lonelyFacts(page)).toEqual([]);
    expect(await overflowsSideways(page)).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-tablet.png'), fullPage: true });

    // The password prompt, once the password was proved long ago, with a wrong guess showing.
    await page.setViewportSize(DESKTOP);
    site.t.clock.advance(601);
    await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill('not it');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expectText(page.locator('#reauth-error'), 'That is not your password.');
    await screenshots(page, 'dashboard-reauth', accessibleAndFits(page));
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    // The warning shortly before the session ends.
    site.t.clock.advance(86_400 - 601 - 100);
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.locator('#expiry-warning').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize(PHONE);
    expect(await overflowsSideways(page)).toBe(false);
    await page.setViewportSize(DESKTOP);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-expiry-desktop.png') });
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});
