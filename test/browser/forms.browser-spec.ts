/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { signup } from '../utils/test-app';
import { expectText, newBrowser, openSite, type Site } from './browser';

/** With JavaScript, the forms check fields as the user types and show the server's answers without a reload. */
describe('Sign-in and sign-up forms with JavaScript', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite({ LOGIN_LIMIT_ACCOUNT_ADDRESS: '2' });
  });
  afterAll(() => site.close());

  /** Marks the loaded document, so a test can tell that no reload or navigation happened. */
  const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const stillSameDocument = (page: Page) =>
    page.evaluate(() => (window as unknown as { marker?: number }).marker === 42);

  it('checks fields as the user types, once they have left them', async () => {
    const { context, page, problems } = await newBrowser(site);
    await page.goto('/signup_page');
    const email = page.getByLabel('Email');
    await email.fill('not-an-email');
    await expectText(page.locator('#email-error'), ''); // still typing: no telling off yet
    await email.blur();
    await expectText(page.locator('#email-error'), 'Enter an email address like name@example.com.');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    await email.fill('ada@example.com');
    await expectText(page.locator('#email-error'), '');
    expect(await email.getAttribute('aria-invalid')).toBe('false');

    const password = page.getByLabel('Password');
    await password.fill('é'.repeat(37)); // 37 characters, 74 bytes
    await password.blur();
    await expectText(
      page.locator('#password-error'),
      'Use at most 72 characters (this counts as 74: letters beyond A–Z and emoji count as 2 or more).',
    );
    // Counted as the server counts, on the NFC form: 36 e's with a combining accent (108 bytes as
    // typed) are 36 é's, 72 bytes.
    await password.fill('e\u0301'.repeat(36));
    await expectText(page.locator('#password-error'), '');
    await signup(site.t.http, { password: 'e\u0301'.repeat(36) }); // and the server takes it (201)
    await password.fill('abc');
    await expectText(page.locator('#password-error'), 'Use at least 8 characters (this is 3).');
    await page.getByLabel('Phone').fill('call me');
    await page.getByLabel('Phone').blur();
    await expectText(page.locator('#phone-error'), 'Use only digits, spaces, +, -, ( and ).');

    // Submitting checks every field, sends nothing while one is wrong, and focuses the first.
    let posted = false;
    page.on('request', (r) => (posted ||= r.method() === 'POST'));
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectText(page.locator('#name-error'), 'Enter your name.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('name');
    expect(posted).toBe(false);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('shows a taken email beside the field without a reload', async () => {
    const taken = await signup(site.t.http);
    const { context, page } = await newBrowser(site);
    await page.goto('/signup_page');
    await markDocument(page);
    await page.getByLabel('Name').fill('Copy Cat');
    await page.getByLabel('Phone').fill('555 0100');
    await page.getByLabel('Email').fill(taken.email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectText(page.locator('#email-error'), 'An account with this email already exists.');
    expect(await stillSameDocument(page)).toBe(true);
    expect(await page.getByLabel('Password').inputValue()).toBe('correct horse battery');
    await context.close();
  });

  it('shows a wrong password, then throttling with its wait, without a reload', async () => {
    const user = await signup(site.t.http);
    const { context, page } = await newBrowser(site);
    await page.goto('/login_page');
    await markDocument(page);
    await page.getByLabel('Email').fill(user.email);
    for (let i = 0; i < 2; i++) {
      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expectText(page.locator('#form-error'), 'Invalid email or password');
      await page.locator('#form-error').evaluate((el) => (el.textContent = ''));
    }
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectText(page.locator('#form-error'), /^Too many attempts\. Try again in \d+ minutes\.$/);
    // Sending again before the wait is over would only be refused again.
    expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isDisabled()).toBe(true);
    expect(await stillSameDocument(page)).toBe(true);
    await context.close();
  });

  it('shows a busy server (503) with its wait', async () => {
    const user = await signup(site.t.http);
    const { context, page } = await newBrowser(site);
    // The hashing queue's 503 needs a login storm to provoke; its answer is played here instead.
    await page.route('**/login', (route) =>
      route.fulfill({
        status: 503,
        headers: { 'Retry-After': '3', 'Content-Type': 'application/json' },
        body: JSON.stringify({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'Too many sign-in requests at once; retry shortly',
        }),
      }),
    );
    await page.goto('/login_page');
    await markDocument(page);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectText(page.locator('#form-error'), 'The server is busy. Try again in 3 seconds.');
    expect(await stillSameDocument(page)).toBe(true);
    await context.close();
  });

  it('lists a validation refusal from the server beside its field', async () => {
    const { context, page } = await newBrowser(site);
    await page.goto('/signup_page');
    await markDocument(page);
    // An address the page's rough check lets through and the server's validator refuses.
    await page.getByLabel('Name').fill('Edge Case');
    await page.getByLabel('Phone').fill('555 0100');
    await page.getByLabel('Email').fill('a@b.c');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectText(page.locator('#email-error'), 'Email must be an email address.');
    await expectText(page.locator('#form-error'), 'Please correct the fields marked below.');
    expect(await stillSameDocument(page)).toBe(true);
    await context.close();
  });
});
