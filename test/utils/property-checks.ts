import request, { type Response, type Test } from 'supertest';
import { LEAKS } from './leaks';
import { createTestApp, type TestApp } from './test-app';

/**
 * What the property specs (test/properties/) share: how an answer is judged, and the app they run
 * against. The generators are in ./arbitraries.
 */

export const MAX_ID = 2147483647;

export function fail(message: string): never {
  throw new Error(message);
}

export function show(res: Response): string {
  const text = typeof res.text === 'string' ? res.text : '';
  return `${res.status} ${text.length > 600 ? `${text.slice(0, 600)}…` : text}`;
}

/**
 * The answer is a 2xx or a 4xx (or a 302 where the caller says a redirect is allowed); a 4xx is
 * JSON with statusCode (equal to the status), error and message, and no stack trace.
 */
export function expectSafe(res: Response, what: string, opts: { redirect?: boolean; tokenAsked?: boolean } = {}): void {
  const s = res.status;
  if (s >= 500) fail(`${what}: server error ${show(res)}`);
  const ok = (s >= 200 && s < 300) || (s >= 400 && s < 500) || (opts.redirect === true && s === 302);
  if (!ok) fail(`${what}: unexpected status ${show(res)}`);
  if (s === 302) {
    if (res.headers.location !== '/login_page') fail(`${what}: redirect to ${res.headers.location}`);
    return;
  }
  if (s >= 400) {
    if (!/^application\/json\b/.test(String(res.headers['content-type'])))
      fail(`${what}: error is not JSON: ${res.headers['content-type']} ${show(res)}`);
    const body = res.body as Record<string, unknown>;
    if (body.statusCode !== s) fail(`${what}: statusCode ${String(body.statusCode)} in a ${s} answer: ${show(res)}`);
    if (typeof body.error !== 'string' || body.error === '') fail(`${what}: no "error" in ${show(res)}`);
    const message = body.message;
    const messageOk =
      typeof message === 'string' || (Array.isArray(message) && message.every((m) => typeof m === 'string'));
    if (!messageOk) fail(`${what}: no "message" in ${show(res)}`);
    if ('stack' in body) fail(`${what}: a stack in ${show(res)}`);
    for (const leak of LEAKS) if (leak.test(res.text)) fail(`${what}: ${leak} in ${show(res)}`);
  }
  // No answer ever carries a bcrypt hash; no success names a password, token or hash field, but
  // the session token a client asked for (`tokenAsked`: POST /login with "return_token": true,
  // POST /change_password authenticated by Bearer), which it then must carry, top-level only.
  if (/\$2[aby]\$\d\d\$/.test(res.text ?? '')) fail(`${what}: a bcrypt hash in ${show(res)}`);
  if (s < 300) {
    let body: unknown = res.body;
    if (opts.tokenAsked) {
      const { token, ...rest } = res.body as Record<string, unknown>;
      if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token))
        fail(`${what}: the token asked for is not in ${show(res)}`);
      body = rest;
    }
    const key = secretKey(body);
    if (key !== undefined) fail(`${what}: a "${key}" field in ${show(res)}`);
  }
}

/** The first key anywhere in a JSON value that names a password, a token or a hash. */
export function secretKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (/password|hash|^token$/i.test(key)) return key;
    const inner = secretKey(child);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

export function expectStatus(res: Response, expected: number | number[], what: string): void {
  const list = Array.isArray(expected) ? expected : [expected];
  if (!list.includes(res.status)) fail(`${what}: expected ${list.join(' or ')}, got ${show(res)}`);
}

/** Percent-encodes UTF-8 bytes (a lone surrogate goes as U+FFFD, as any UTF-8 encoder sends it). */
export function percentEncode(text: string, everything = false): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += !everything && /[A-Za-z0-9_~-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function codePoints(text: string): number {
  return Array.from(text).length;
}

export const LONE_SURROGATE = /\p{Cs}/u;

/** A decimal string as the contract reads an id: 'valid', 'invalid', or 'either' (leading zeros). */
export function judgeNumber(text: string, min: number, max: number): 'valid' | 'invalid' | 'either' {
  if (!/^[0-9]+$/.test(text)) return 'invalid';
  const n = Number(text);
  if (n < min || n > max) return 'invalid';
  return String(n) === text ? 'valid' : 'either';
}

export function decodeOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The app a property spec runs against: limits that many logins from one address would reach
 * raised out of the way, listening once so supertest does not open a listener per request.
 */
export async function createPropertyApp(): Promise<TestApp> {
  const t = await createTestApp({
    TRUST_PROXY: 'loopback',
    MAX_SESSIONS_PER_USER: '1000',
    LOGIN_LIMIT_ACCOUNT_ADDRESS: '1000000',
    LOGIN_LIMIT_ADDRESS: '1000000',
    LOGIN_LIMIT_ACCOUNT: '1000000',
  });
  await t.app.listen(0, '127.0.0.1');
  return t;
}

/**
 * What a property spec runs against, built before its tests and closed after them: `t`, the app
 * (filled in by beforeAll), `send` to start a request, and `uniq` for tags unique within the run.
 *
 * Every property goes through the real app: validation and the session guard answer with a 2xx or
 * a 4xx in the contract's error shape (API.md "Limits every route keeps"), never a 5xx, never
 * another user's data. No Origin / Sec-Fetch-Site headers are ever sent: requests without them are
 * never refused by the cross-site guard, which has its own table-driven spec.
 */
export function usePropertyApp(): {
  t: TestApp;
  send: (method: 'get' | 'post' | 'patch' | 'delete', path: string) => Test;
  uniq: () => string;
} {
  const t = {} as TestApp;
  beforeAll(async () => {
    Object.assign(t, await createPropertyApp());
  });
  afterAll(() => t.close());
  return { t, send: (method, path) => request(t.http)[method](path), uniq: uniqueTags() };
}

/** A source of tags unique within the run (for emails and user agents). */
export function uniqueTags(): () => string {
  let unique = 0;
  return () => `${++unique}-${Date.now().toString(36)}`;
}
