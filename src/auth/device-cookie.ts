import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createParamDecorator, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock';
import { appConfig, type AppConfig } from '../config/app.config';

/** How long a browser stays a known device after its latest successful sign-in: one year. */
export const DEVICE_COOKIE_MAX_AGE = 365 * 86400;

/** Accounts one browser is remembered for; a sign-in to a sixth drops the one signed in to longest ago. */
export const MAX_KNOWN_ACCOUNTS = 5;

/**
 * The device cookie's name. With `Secure` it carries the `__Host-` prefix like the session cookie
 * (session-cookie.ts): a sibling subdomain or an http:// page cannot plant one.
 */
export function deviceCookieName(secure: boolean): string {
  return secure ? '__Host-device' : 'device';
}

/** One entry: a 128-bit random nonce, then the 256-bit MAC binding it to an account. */
const ENTRY = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
/** Entries are joined with `~`, which cookies carry unencoded. */
const SEPARATOR = '~';
/** More than any cookie we set can hold; a longer value is not read at all (it costs a MAC per entry). */
const MAX_ENTRIES_READ = 2 * MAX_KNOWN_ACCOUNTS;

/**
 * The device cookie's key: HMAC(SECRET_KEY, 'device-cookie'), so it is never the key the session
 * tokens are stored under (a MAC from one use can never pass for the other), and changing
 * SECRET_KEY forgets every device with every session.
 */
export function deviceCookieKey(secretKey: string): Buffer {
  return createHmac('sha256', secretKey).update('device-cookie').digest();
}

function macOf(key: Buffer, nonce: string, userId: number): string {
  return createHmac('sha256', key).update(`${nonce}:${userId}`).digest('base64url');
}

/**
 * What a browser's device cookie says: entries `<nonce>.<mac>`, newest first, each binding a
 * random nonce to one account it signed in to (the MAC covers the nonce and the user id, so the
 * cookie names no account and cannot be moved to another). Entries are only format-checked when
 * read; `nonceFor` tells whether one is genuine for the account a login names.
 */
export class KnownDevices {
  constructor(
    private readonly entries: readonly string[],
    private readonly key: Buffer,
  ) {}

  /**
   * The nonce this browser was given for this account, if the cookie holds a genuine entry for
   * it; the throttle counts the device's failures under it. A forged entry, or one issued for
   * another account, gives null.
   */
  nonceFor(userId: number): string | null {
    for (const entry of this.entries) {
      const [nonce, mac] = entry.split('.');
      const expected = Buffer.from(macOf(this.key, nonce, userId));
      if (timingSafeEqual(Buffer.from(mac), expected)) return nonce;
    }
    return null;
  }

  /**
   * The cookie's value after a successful sign-in to this account: a fresh entry first (a new
   * nonce, as OWASP asks, so the device's failure count starts again), the account's earlier
   * entries dropped, the other accounts' entries kept in order, at most MAX_KNOWN_ACCOUNTS.
   */
  afterSignIn(userId: number): string {
    const nonce = randomBytes(16).toString('base64url');
    const fresh = `${nonce}.${macOf(this.key, nonce, userId)}`;
    const own = this.nonceFor(userId);
    const others = this.entries.filter((entry) => own === null || !entry.startsWith(`${own}.`));
    return [fresh, ...others].slice(0, MAX_KNOWN_ACCOUNTS).join(SEPARATOR);
  }
}

/**
 * Every value the Cookie header gives this name. Not `req.cookies`, which keeps only the first:
 * a cookie planted under the same name (another path, a sibling subdomain without `__Host-`)
 * must not hide the browser's genuine one.
 */
function cookieValues(header: string | undefined, name: string): string[] {
  if (typeof header !== 'string') return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    try {
      values.push(decodeURIComponent(pair.slice(at + 1).trim()));
    } catch {
      // Not percent-decodable: not a cookie we set.
    }
  }
  return values;
}

/**
 * The known-device cookie (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): after
 * a successful sign-in the browser gets an entry binding a random nonce to the account, and its
 * later logins to that account are exempt from the per-address and per-account lockouts (counted
 * under the device's own key instead, see LoginThrottle) and hash in a lane the flood cannot fill
 * (PasswordHasher). HttpOnly, SameSite=Lax, Path=/ (the `__Host-` prefix requires it), Secure with
 * SESSION_COOKIE_SECURE, one year. It is not a session: it authenticates nobody and logout keeps
 * it (see clearSessionCookie). One cookie holds up to MAX_KNOWN_ACCOUNTS accounts, newest first,
 * rather than one cookie per account: a browser then sends one small cookie, and the name says
 * nothing about which accounts it knows.
 */
@Injectable()
export class DeviceCookie {
  private readonly key: Buffer;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.key = deviceCookieKey(config.secretKey);
  }

  /** The entries a request's device cookie(s) carry (from its Cookie header); others are dropped. */
  read(cookieHeader: string | undefined): KnownDevices {
    const entries = cookieValues(cookieHeader, deviceCookieName(this.config.cookieSecure))
      .filter((value) => value.length <= 70 * MAX_ENTRIES_READ)
      .flatMap((value) => value.split(SEPARATOR))
      .filter((entry) => ENTRY.test(entry));
    return new KnownDevices([...new Set(entries)].slice(0, MAX_ENTRIES_READ), this.key);
  }

  /** Remembers this browser for the account it just signed in to. */
  remember(reply: FastifyReply, devices: KnownDevices, userId: number): void {
    const secure = this.config.cookieSecure;
    const attributes: CookieSerializeOptions = {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure,
      maxAge: DEVICE_COOKIE_MAX_AGE,
      expires: new Date(this.clock.now().getTime() + DEVICE_COOKIE_MAX_AGE * 1000),
    };
    void reply.setCookie(deviceCookieName(secure), devices.afterSignIn(userId), attributes);
  }
}

/** The request's raw Cookie header, for DeviceCookie.read (which needs every value of a name). */
export const CookieHeader = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const header = ctx.switchToHttp().getRequest<FastifyRequest>().headers.cookie;
  return typeof header === 'string' ? header : undefined;
});
