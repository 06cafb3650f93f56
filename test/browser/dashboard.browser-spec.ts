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
    await expectText(phone.page.locator('.session.current .device-name'), 'Firefox on Windows (desktop)');

    await laptop.page.goto('/userpage');
    const rows = laptop.page.locator('#session-list .session');
    await expectText(rows.locator('.device-name'), /./);
    expect(await rows.count()).toBe(3);
    const devices = await rows.locator('.device-name').allTextContents();
    expect(devices).toEqual(expect.arrayContaining(['Firefox on Windows (desktop)', 'Safari on iOS (mobile)']));
    // The account's first browser is its usual one; the two others are new to it.
    const firefox = rows.filter({ hasText: 'Firefox on Windows (desktop)' });
    expect(await firefox.locator('.new-device').isVisible()).toBe(true);
    expect(await firefox.locator('.new-device').textContent()).toBe('New');
    expect(await laptop.page.locator('.session.current .new-device').isVisible()).toBe(false);
    // Signed in without "Keep me signed in" either way (as an API client may): no word about the cookie.
    await expectText(laptop.page.locator('.session.current .ends'), 'ends in 24 hours');
    expect(await laptop.page.locator('.session.current').count()).toBe(1);
    expect(await laptop.page.locator('#session-count').textContent()).toBe('3');

    // Times in words, the exact time on hover.
    const active = laptop.page.locator('.session.current .last-activity');
    await expectText(active, 'just now');
    expect(await active.getAttribute('title')).toMatch(/\d{4}/);
    expect(await active.getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await expectText(laptop.page.locator('.session.current .ip'), '127.0.0.1');

    await laptop.page.getByRole('button', { name: 'Sign out Firefox on Windows (desktop)' }).click();
    await expectText(laptop.page.locator('#page-status'), 'Signed out Firefox on Windows (desktop).');
    await expectText(laptop.page.locator('#session-count'), '2');
    expect(await laptop.page.locator('#session-list .device-name').allTextContents()).not.toContain(
      'Firefox on Windows (desktop)',
    );
    // No password was asked for: it was proved at sign-in, moments ago.
    expect(await laptop.page.getByRole('dialog').count()).toBe(0);

    // The other browser learns at its next step (here: the window regains focus) and says why.
    await phone.page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await phone.page.waitForURL('/login_page');
    await expectText(phone.page.locator('#notice'), 'You were signed out from another device.');

    // "Sign out all other sessions" ends the iPhone's too, and leaves this one.
    await laptop.page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await expectText(laptop.page.locator('#page-status'), 'Signed out 1 other session.');
    await expectText(laptop.page.locator('#session-count'), '1');
    expect(await laptop.page.getByRole('button', { name: 'Sign out all other sessions' }).isVisible()).toBe(false);

    // Its own session has no button in the list: the page's one "Sign out" ends it.
    expect(await laptop.page.locator('.session.current button').count()).toBe(0);
    await laptop.page.getByRole('button', { name: 'Sign out', exact: true }).click();
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
    // No "last sign-in": it would be this very one.
    expect(await page.getByText('Last sign-in').count()).toBe(0);
    await signIn(context, user);
    await page.reload();
    await expectText(page.locator('#previous-login .meta'), /^· Chrome Headless on Linux \(desktop\), 127\.0\.0\.1$/);
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

    await page.locator('#password-form').getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password').fill('a brand new secret');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expectText(page.locator('#current_password-error'), 'That is not your current password.');

    await page.locator('#password-form').getByLabel('Current password').fill(user.password);
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

  it('says how each session ends: when the browser closes (its expiry the latest) or, kept signed in, at its expiry', async () => {
    const user = await signup(site.t.http);
    await request(site.t.http)
      .post('/login')
      .set('User-Agent', FIREFOX_WINDOWS)
      .send({ email: user.email, password: user.password, remember_me: false })
      .expect(200);
    const { context, page, problems } = await newBrowser(site);
    const res = await context.request.post('/login', {
      data: { email: user.email, password: user.password, remember_me: true },
    });
    expect(res.status()).toBe(200);
    await page.goto('/userpage');
    await expectText(page.locator('#session-count'), '2');
    // (Earlier tests moved the server's clock on, so the times are not the browser's "in 24 hours".)
    await expectText(page.locator('.session.current .ends'), /^kept signed in, ends in \d+ weeks$/);
    await expectText(
      page.locator('.session').filter({ hasText: 'Firefox on Windows' }).locator('.ends'),
      /^ends when the browser closes, or in \d+ (hours|days) at the latest$/,
    );
    // The time is the session's expiry, with the exact moment on hover.
    expect(await page.locator('.session.current .ends time').getAttribute('datetime')).toMatch(/^\d{4}-/);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it('shows countries, new-device marks and unknown devices as text, whatever the API sends', async () => {
    const user = await signup(site.t.http);
    const { context, page, problems } = await newBrowser(site);
    await signIn(context, user);
    // GEOIP is off here and every address is loopback: the answers are given countries in the browser.
    await page.route('**/active_sessions', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { sessions: Array<Record<string, unknown>> };
      const [mine] = body.sessions;
      const other = {
        ...mine,
        id: 999_999,
        current: false,
        new_device: true,
        location: { country: 'DE' },
        device: { browser: '<img src=x onerror="window.pwned=1">', os: null, type: null },
      };
      const unknown = {
        ...mine,
        id: 999_998,
        current: false,
        location: null,
        device: { browser: null, os: null, type: null },
      };
      await route.fulfill({ response, json: { sessions: [mine, other, unknown] } });
    });
    await page.route('**/login_activity', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { attempts: Array<Record<string, unknown>> };
      body.attempts[0] = { ...body.attempts[0], country: 'FR', new_device: true };
      await route.fulfill({ response, json: body });
    });
    await page.goto('/userpage');
    const rows = page.locator('#session-list .session');
    await expectText(rows.nth(1).locator('.device-name'), '<img src=x onerror="window.pwned=1">');
    await expectText(rows.nth(1).locator('.country'), 'Germany ·');
    expect(await rows.nth(1).locator('.new-device').isVisible()).toBe(true);
    await expectText(rows.nth(2).locator('.device-name'), 'Unknown device');
    expect(await rows.nth(2).locator('.country').isVisible()).toBe(false);
    const attempt = page.locator('#attempt-list .attempt').first();
    await expectText(attempt.locator('.country'), 'France ·');
    await expectText(attempt.locator('.new-device'), 'New device');
    expect(await attempt.locator('.new-device').isVisible()).toBe(true);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  describe('ending sessions when the password was proved long ago', () => {
    it('asks for the password in a dialog, then ends the session; Escape cancels, a wrong password is said', async () => {
      const user = await signup(site.t.http);
      await login(site.t.http, user, FIREFOX_WINDOWS);
      const { context, page, problems } = await newBrowser(site);
      await signIn(context, user);
      await page.goto('/userpage');
      await expectText(page.locator('#session-count'), '2');
      site.t.clock.advance(601); // past REAUTH_MAX_AGE (600 s)

      const endFirefox = page.locator('.session:not(.current) .end-session');
      await endFirefox.click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.waitFor();
      const device = await page.locator('.session:not(.current) .device-name').textContent();
      await expectText(page.locator('#reauth-text'), `Enter your password to sign out ${device}.`);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('reauth-password');

      // Escape cancels: nothing is ended, focus goes back to the button.
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      // Focus returns once the cancelled prompt has settled (a few ticks after the dialog closes).
      await page
        .waitForFunction(
          (label) => document.activeElement?.getAttribute('aria-label') === label,
          `Sign out ${device}`,
          { timeout: 5000 },
        )
        .catch(() => undefined);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Sign out ${device}`);
      await expectText(page.locator('#session-count'), '2');

      await endFirefox.click();
      await dialog.waitFor();
      await dialog.getByLabel('Password').fill('not my password');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expectText(page.locator('#reauth-error'), 'That is not your password.');
      expect(await dialog.isVisible()).toBe(true);

      await dialog.getByLabel('Password').fill(user.password);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.waitFor({ state: 'hidden' });
      // The click is carried out once the password is proved, without pressing again.
      await expectText(page.locator('#page-status'), `Signed out ${device}.`);
      await expectText(page.locator('#session-count'), '1');

      // Proved just now: "Sign out all other sessions" asks nothing.
      await login(site.t.http, user, FIREFOX_WINDOWS);
      await page.evaluate(() => window.dispatchEvent(new Event('focus')));
      await expectText(page.locator('#session-count'), '2');
      await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
      await expectText(page.locator('#page-status'), 'Signed out 1 other session.');
      expect(await dialog.count()).toBe(0);
      expect(problems.errors).toEqual([]);
      await context.close();
    });

    it('asks before "Sign out all other sessions" too, and shows a throttled prompt with its wait', async () => {
      const user = await signup(site.t.http);
      await login(site.t.http, user, FIREFOX_WINDOWS);
      const { context, page, problems } = await newBrowser(site);
      await signIn(context, user);
      await page.goto('/userpage');
      await expectText(page.locator('#session-count'), '2');
      site.t.clock.advance(601);

      await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
      const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
      await dialog.waitFor();
      await expectText(page.locator('#reauth-text'), 'Enter your password to sign out all your other sessions.');
      // Too many wrong passwords: the server's 429 and its wait, beside the field.
      await page.route('**/reauthenticate', (route) =>
        route.fulfill({
          status: 429,
          headers: { 'Retry-After': '2' },
          json: { statusCode: 429, error: 'Too Many Requests', message: 'Too many attempts' },
        }),
      );
      await dialog.getByLabel('Password').fill(user.password);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expectText(page.locator('#reauth-error'), 'Too many attempts. Try again in 2 seconds.');
      expect(await dialog.getByRole('button', { name: 'Confirm' }).isDisabled()).toBe(true);
      await page.unroute('**/reauthenticate');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await expectText(page.locator('#session-count'), '2');

      // A later try, with the wait over (a new prompt), goes through.
      await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
      await dialog.waitFor();
      await dialog.getByLabel('Password').fill(user.password);
      await dialog.getByRole('button', { name: 'Confirm' }).click(); // waits until enabled again

      await expectText(page.locator('#page-status'), 'Signed out 1 other session.');
      expect(problems.errors).toEqual([]);
      await context.close();
    });
  });

  it('warns shortly before the session expires', async () => {
    const user = await signup(site.t.http);
    const { context, page, problems } = await newBrowser(site);
    await signIn(context, user);
    await page.goto('/userpage');
    await expectText(page.locator('#session-count'), '1');
    expect(await page.locator('#expiry-warning').isVisible()).toBe(false);
    site.t.clock.advance(86_400 - 100); // 100 s left
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    const warning = page.getByRole('alert').filter({ hasText: 'Your session ends' });
    await expectText(warning.locator('p'), 'Your session ends in 2 minutes. Sign in again to keep going.');
    expect(await warning.getByRole('link', { name: 'Sign in again' }).getAttribute('href')).toBe('/login_page');
    expect(await warning.getByRole('button', { name: 'Stay signed in' }).isVisible()).toBe(false);
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
      await page.getByRole('button', { name: 'Send', exact: true }).nth(1).click();
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

    it('pages back through older conversations (GET /chats answers 50 at a time)', async () => {
      const busy = await signup(site.t.http, { name: 'Busy Bee' });
      const sender = await login(site.t.http, busy, 'sender');
      for (let i = 1; i <= 55; i++) {
        const friend = await signup(site.t.http, { name: `Friend ${i}` });
        await request(site.t.http)
          .post('/chats')
          .set('Cookie', sender.cookie)
          .send({ receiver_id: friend.id, message: `hello ${i}` })
          .expect(201);
      }
      const { context, page } = await newBrowser(site);
      await signIn(context, busy);
      await page.goto('/userpage');
      const names = page.locator('#conversation-list .who');
      await expectText(names.first(), 'Friend 55');
      expect(await names.count()).toBe(50);
      await page.getByRole('button', { name: 'Show older conversations' }).click();
      await page.waitForFunction(() => document.querySelectorAll('#conversation-list li').length === 55);
      expect(await names.allTextContents()).toEqual(Array.from({ length: 55 }, (_, i) => `Friend ${55 - i}`));
      expect(await page.locator('#conversations-older').isHidden()).toBe(true);
      await context.close();
    });
  });
});

describe('The dashboard with an idle timeout', () => {
  let site: Site;
  beforeAll(async () => {
    site = await openSite({ SESSION_IDLE_TIMEOUT: '180' });
  });
  afterAll(() => site.close());

  it('lets an unattended page go idle: warns two minutes before, "Stay signed in" keeps it, then signs out', async () => {
    const user = await signup(site.t.http);
    const { context, page, problems } = await newBrowser(site);
    await signIn(context, user);
    // The page's timers and Date run on a clock the test moves; the server's clock is moved alongside.
    await page.clock.install();
    await page.goto('/userpage');
    await expectText(page.locator('#session-count'), '1');
    const warning = page.locator('#expiry-warning');
    expect(await warning.isVisible()).toBe(false);

    // Nobody touches the page: its polls leave the server alone, and at 60 s (120 s left) it warns.
    site.t.clock.advance(65);
    await page.clock.runFor(65_000);
    await expectText(
      page.locator('#expiry-text'),
      /^You will be signed out in 2 minutes because this session has been inactive\.$/,
    );
    expect(await warning.getByRole('link', { name: 'Sign in again' }).isVisible()).toBe(false);

    await warning.getByRole('button', { name: 'Stay signed in' }).click();
    await warning.waitFor({ state: 'hidden' });

    // Unattended again: warned, then, past the timeout, sent to sign in with the reason.
    site.t.clock.advance(200);
    await page.clock.runFor(65_000);
    await warning.waitFor();
    await page.clock.runFor(140_000);
    await page.waitForURL('/login_page');
    await expectText(page.locator('#notice'), 'You were signed out after a period of inactivity.');
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});
