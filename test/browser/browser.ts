/// <reference lib="dom" />
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { source as axeSource } from 'axe-core';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type CDPSession,
  type Page,
} from 'playwright-core';
import type { Protocol } from 'playwright-core/types/protocol';
import { createTestApp, type TestApp } from '../utils/test-app';

/** Debian's Chromium (apt-get install -y chromium); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the screenshots go for a person to look at (git-ignored). */
export const SCREENSHOTS = join(__dirname, '..', '..', 'artifacts', 'screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export interface Site {
  t: TestApp;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** A loopback port free right now (the app listens on it next). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The production app on a fresh database, listening on a loopback port, and a headless Chromium.
 * `host: 'localhost'` serves it as http://localhost:<port>, with PUBLIC_URL set to that address
 * before the app starts: passkeys need a domain for their relying-party ID (an IP address is none),
 * and the port must be known to the app's expected origin. Chromium resolves localhost (and any
 * `*.localhost`) to the loopback address itself, and treats them as secure contexts.
 */
export async function openSite(
  env: Record<string, string> = {},
  options: { host?: '127.0.0.1' | 'localhost'; captureLogs?: boolean } = {},
): Promise<Site> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH).`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  const wanted = host === 'localhost' ? await freePort() : 0;
  const t = await createTestApp(host === 'localhost' ? { PUBLIC_URL: `http://localhost:${wanted}`, ...env } : env, {
    captureLogs: options.captureLogs,
  });
  await t.app.listen(wanted, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  return {
    t,
    base: `http://${host}:${port}`,
    browser,
    close: async () => {
      await browser.close();
      await t.close();
    },
  };
}

/** What went wrong inside a page: script errors, CSP refusals, failed loads other than expected API answers. */
export interface PageProblems {
  errors: string[];
}

/** A new browser (its own cookie jar) on the site, recording the page's script errors and CSP violations. */
export async function newBrowser(
  site: Site,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await site.browser.newContext({ baseURL: site.base, viewport: DESKTOP, ...options });
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on('pageerror', (error) => problems.errors.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    // A 4xx from the API is an answer the page handles; Chromium logs each as "Failed to load resource".
    if (
      message.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())
    ) {
      problems.errors.push(`console: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/assets/') && response.status() >= 400) {
      problems.errors.push(`asset ${response.url()} answered ${response.status()}`);
    }
  });
  return { context, page, problems };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/**
 * axe-core run inside the page; its violations of every impact (minor ones too: the pages have
 * none, and a new one should be seen). Injected through the DevTools protocol (as a test tool
 * may), so the page's own CSP stays as strict as it is.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: (ctx: Document, options: object) => Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  return violations;
}

/** One of the four ways a page is looked at: desktop or phone width, light or dark. */
export interface Look {
  width: 'desktop' | 'phone';
  scheme: 'light' | 'dark';
}

/**
 * Full-page screenshots at desktop and phone width, light and dark, under artifacts/screenshots;
 * `check`, when given, runs in each of the four looks before its screenshot.
 */
export async function screenshots(page: Page, name: string, check?: (look: Look) => Promise<void>): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const viewport = page.viewportSize() ?? DESKTOP;
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const suffix = scheme === 'dark' ? '-dark' : '';
    for (const width of ['desktop', 'phone'] as const) {
      await page.setViewportSize(width === 'desktop' ? DESKTOP : PHONE);
      await check?.({ width, scheme });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}${suffix}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(viewport);
}

/**
 * Where the text of `selector`'s element wraps onto a new line: for each line after the first,
 * the last character before the break and the first after it (read from each character's box).
 */
export function lineBreaks(page: Page, selector: string): Promise<Array<[string, string]>> {
  return page.locator(selector).evaluate((element) => {
    const breaks: Array<[string, string]> = [];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    let previous: { char: string; top: number } | null = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? '';
      for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const box = range.getClientRects()[0];
        if (!box) continue;
        if (previous && box.top > previous.top + box.height / 2) breaks.push([previous.char, text[i]]);
        previous = { char: text[i], top: box.top };
      }
    }
    return breaks;
  });
}

/** True when the page is wider than the screen (a phone would scroll sideways). */
export function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
}

/** Waits (up to 5 s) for the element's text to be `expected`, then fails showing what it was. */
export async function expectText(locator: Locator, expected: string | RegExp): Promise<void> {
  await locator.first().waitFor({ state: 'attached' });
  const deadline = Date.now() + 5000;
  let text = '';
  while (Date.now() < deadline) {
    text = (await locator.first().textContent())?.trim() ?? '';
    if (typeof expected === 'string' ? text === expected : expected.test(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(text).toEqual(expected);
}

/** Clicks a submit button of a page without JavaScript and returns the status of the page it lands on. */
export async function submitAndWait(page: Page, button: string): Promise<number | undefined> {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  return response?.status();
}

export async function tabToNextInput(page: Page): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement instanceof HTMLInputElement)) return;
  }
  throw new Error('no input reached by Tab');
}

/** Signs a browser in through the API, as its own script would (the cookie lands in its jar). */
export async function signIn(context: BrowserContext, user: { email: string; password: string }): Promise<void> {
  const res = await context.request.post('/login', { data: { email: user.email, password: user.password } });
  if (res.status() !== 200) throw new Error(`sign-in failed: ${res.status()} ${await res.text()}`);
}

/** A device's passkey store: Chromium's virtual authenticator on one page (DevTools' WebAuthn domain). */
export interface Authenticator {
  cdp: CDPSession;
  authenticatorId: string;
  credentials(): Promise<Protocol.WebAuthn.Credential[]>;
}

/**
 * A platform authenticator with resident keys and user verification (a phone's or laptop's own
 * passkeys, fingerprint checked), which answers at once (no touch to simulate). Chromium's virtual
 * authenticator environment shows no passkey picker: a request, even a conditional one (autofill),
 * is answered with the first matching passkey.
 */
export async function addAuthenticator(
  context: BrowserContext,
  page: Page,
  options: Partial<Protocol.WebAuthn.VirtualAuthenticatorOptions> = {},
): Promise<Authenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      ...options,
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

/**
 * Makes the page's browser one without passkey autofill (isConditionalMediationAvailable() false),
 * so the sign-in page starts no conditional request on load: with the virtual authenticator, that
 * request would sign in at once, before a test can press anything.
 */
export async function withoutPasskeyAutofill(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    if (typeof PublicKeyCredential === 'function')
      PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
  });
}
