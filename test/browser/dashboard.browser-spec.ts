/// <reference lib="dom" />
import request from 'supertest';
import { signup, login, type TestUser } from '../utils/test-app';
import { expectText, newBrowser, openSite, signIn, type Site } from './browser';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

describe('The dashboard', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite();
  });
  afterAll(() => site.close());

  it('lists the sessions in words and ends one on another device, which is then sent to sign in with the reason', async () => {
    const user = await signup(site.t.http, { name: 'Multi Device' });
    const laptop = await newBrowser(site);
    const phone = await newBrowser(site, { userAgent: FIREFOX_WINDOWS });
    await signIn(laptop.context, user);
    await signIn(phone.context, user);
    await login(site.t.http, user, SAFARI_IPHONE);

    await phone.page.goto('/userpage');
    await expectText(phone.page.locator('.session.current .device-name'), 'Firefox 133 on Windows');

    await laptop.page.goto('/userpage');
    const rows = laptop.page.locator('#session-list .session');
    await expectText(rows.locator('.device-name'), /./);
    expect(await rows.count()).toBe(3);
    const devices = await rows.locator('.device-name').allTextContents();
    expect(devices).toEqual(expect.arrayContaining(['Firefox 133 on Windows', 'Safari on iPhone']));
    expect(await laptop.page.locator('.session.current').count()).toBe(1);
    expect(await laptop.page.locator('#session-count').textContent()).toBe('3');

    // Times in words, the exact time on hover.
    const active = laptop.page.locator('.session.current .last-activity');
    await expectText(active, 'just now');
    expect(await active.getAttribute('title')).toMatch(/\d{4}/);
    expect(await active.getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await expectText(laptop.page.locator('.session.current .ip'), '127.0.0.1');

    await laptop.page.getByRole('button', { name: 'Sign out Firefox 133 on Windows' }).click();
    await expectText(laptop.page.locator('#page-status'), 'Signed out Firefox 133 on Windows.');
    await expectText(laptop.page.locator('#session-count'), '2');
    expect(await laptop.page.locator('#session-list .device-name').allTextContents()).not.toContain(
      'Firefox 133 on Windows',
    );

    // The other browser learns at its next step (here: the window regains focus) and says why.
    await phone.page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await phone.page.waitForURL('/login_page');
    await expectText(phone.page.locator('#notice'), 'You were signed out from another device.');

    // "Sign out all other sessions" ends the iPhone's too, and leaves this one.
    await laptop.page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await expectText(laptop.page.locator('#page-status'), 'Signed out 1 other session.');
    await expectText(laptop.page.locator('#session-count'), '1');
    expect(await laptop.page.getByRole('button', { name: 'Sign out all other sessions' }).isVisible()).toBe(false);

    // Ending its own session from the list signs this browser out.
    await laptop.page.getByRole('button', { name: /\(this device\)$/ }).click();
    await laptop.page.waitForURL('/login_page?notice=signed_out');
    expect(laptop.problems.errors).toEqual([]);
    expect(phone.problems.errors).toEqual([]);
    await laptop.context.close();
    await phone.context.close();
  });

  it('sends a signed-out browser to sign in when the session expires, saying so', async () => {
    const user = await signup(site.t.http);
    const { context, page } = await newBrowser(site);
    await signIn(context, user);
    await page.goto('/userpage');
    await expectText(page.locator('#session-count'), '1');
    site.t.clock.advance(86_401);
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/login_page');
    await expectText(page.locator('#notice'), 'Your session expired. Sign in again.');
    await context.close();
  });

  it('marks failed and throttled sign-in attempts', async () => {
    const user = await signup(site.t.http);
    for (let i = 0; i < 5; i++)
      await request(site.t.http).post('/login').send({ email: user.email, password: 'wrong password' }).expect(401);
    await request(site.t.http).post('/login').send({ email: user.email, password: user.password }).expect(429);
    site.t.clock.advance(901); // past the throttling window
    const { context, page } = await newBrowser(site);
    await signIn(context, user);
    await page.goto('/userpage');
    const attempts = page.locator('#attempt-list .attempt');
    await expectText(attempts.first().locator('.result'), 'Signed in');
    expect(await attempts.locator('.result').allTextContents()).toEqual([
      'Signed in',
      'Blocked: too many attempts',
      ...Array(5).fill('Wrong password'),
    ]);
    expect(await attempts.nth(0).getAttribute('class')).toContain('ok');
    expect(await attempts.nth(1).getAttribute('class')).toContain('throttled');
    expect(await attempts.nth(2).getAttribute('class')).toContain('failed');
    expect(await page.locator('#previous-login').isVisible()).toBe(false); // the first sign-in
    await signIn(context, user);
    await page.reload();
    await expectText(page.locator('#previous-login .meta'), /^· Chrome Headless \d+ on Linux, 127\.0\.0\.1$/);
    expect(await page.locator('#previous-login').isVisible()).toBe(true);
    await context.close();
  });

  it('changes the password, signing out the other sessions', async () => {
    const user = await signup(site.t.http);
    const other = await login(site.t.http, user, 'Other device');
    const { context, page, problems } = await newBrowser(site);
    await signIn(context, user);
    await page.goto('/userpage');
    await expectText(page.locator('#session-count'), '2');

    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password').fill('a brand new secret');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expectText(page.locator('#current_password-error'), 'That is not your current password.');

    await page.getByLabel('Current password').fill(user.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expectText(page.locator('#password-notice'), 'Password changed. 1 other session signed out.');
    await expectText(page.locator('#session-count'), '1');
    await request(site.t.http).get('/session_status').set('Cookie', other.cookie).expect(401);
    // This browser's session was replaced by a fresh one and goes on working.
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/userpage');
    await request(site.t.http).post('/login').send({ email: user.email, password: 'a brand new secret' }).expect(200);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  describe('chat', () => {
    let eve: TestUser;
    let bob: TestUser;
    const HOSTILE_NAME = '<img src=x onerror="window.pwned=1">Eve';
    const HOSTILE_MESSAGE = '<script>window.pwned=2</script><b>bold?</b> & <i>more</i>';

    beforeAll(async () => {
      eve = await signup(site.t.http, { name: HOSTILE_NAME });
      bob = await signup(site.t.http, { name: 'Bob' });
    });

    it('shows names and messages containing HTML as text, in the global room and in private', async () => {
      const eveBrowser = await newBrowser(site);
      await signIn(eveBrowser.context, eve);
      await eveBrowser.page.goto('/userpage');
      await expectText(eveBrowser.page.getByRole('heading', { level: 1 }), HOSTILE_NAME);
      await eveBrowser.page.getByLabel('Message to everyone').fill(HOSTILE_MESSAGE);
      await eveBrowser.page.getByLabel('Message to everyone').press('Enter');
      await expectText(eveBrowser.page.locator('#global-messages .message.mine .message-text'), HOSTILE_MESSAGE);

      const bobBrowser = await newBrowser(site);
      await signIn(bobBrowser.context, bob);
      const { page } = bobBrowser;
      await page.goto('/userpage');
      const message = page.locator('#global-messages .message').filter({ hasText: 'bold?' });
      await expectText(message.locator('.author'), HOSTILE_NAME);
      await expectText(message.locator('.message-text'), HOSTILE_MESSAGE);
      expect(await page.locator('#global-messages img, #global-messages script, #global-messages b').count()).toBe(0);

      // Reply privately from the global room.
      await message.getByRole('button', { name: `Message ${HOSTILE_NAME} privately` }).click();
      await expectText(page.locator('#conversation-title'), `With ${HOSTILE_NAME}`);
      await page.getByLabel(`Private message to ${HOSTILE_NAME}`).fill('<u>hi</u> Eve');
      await page.getByRole('button', { name: 'Send' }).nth(1).click();
      await expectText(page.locator('#private-messages .message.mine .message-text'), '<u>hi</u> Eve');
      await expectText(page.locator('#conversation-list .who'), HOSTILE_NAME);

      // Eve sees the conversation in her list, opens it and answers.
      await eveBrowser.page.evaluate(() => window.dispatchEvent(new Event('focus')));
      await expectText(eveBrowser.page.locator('#conversation-list .who'), 'Bob');
      await expectText(eveBrowser.page.locator('#conversation-list .preview'), '<u>hi</u> Eve');
      await eveBrowser.page.locator('#conversation-list button').first().click();
      await expectText(eveBrowser.page.locator('#private-messages .message .message-text'), '<u>hi</u> Eve');
      await eveBrowser.page.getByLabel('Private message to Bob').fill('hello Bob');
      await eveBrowser.page.getByLabel('Private message to Bob').press('Enter');
      await expectText(eveBrowser.page.locator('#private-messages .message.mine .message-text'), 'hello Bob');

      for (const { page: p } of [eveBrowser, bobBrowser]) {
        expect(await p.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
        expect(await p.locator('main u, main i, main img').count()).toBe(0);
      }
      expect(eveBrowser.problems.errors).toEqual([]);
      expect(bobBrowser.problems.errors).toEqual([]);
      await eveBrowser.context.close();
      await bobBrowser.context.close();
    });

    it('pages back through older messages of the global room', async () => {
      const poster = await login(site.t.http, bob, 'poster');
      for (let i = 1; i <= 25; i++) {
        await request(site.t.http)
          .post('/global_chat')
          .set('Cookie', poster.cookie)
          .send({ message: `numbered ${i}` })
          .expect(201);
      }
      const { context, page } = await newBrowser(site);
      await signIn(context, bob);
      await page.goto('/userpage');
      const texts = page.locator('#global-messages .message-text');
      await expectText(texts.last(), 'numbered 25');
      expect(await texts.count()).toBe(20);
      await page.getByRole('button', { name: 'Show older messages' }).first().click();
      await expectText(page.locator('#global-messages .message-text').first(), /./);
      await page.waitForFunction(() => document.querySelectorAll('#global-messages .message').length > 20);
      const all = await texts.allTextContents();
      expect(all.indexOf('numbered 1')).toBeLessThan(all.indexOf('numbered 25'));
      expect(all).toContain('numbered 1');
      expect(all).toContain(HOSTILE_MESSAGE);
      await context.close();
    });
  });
});
