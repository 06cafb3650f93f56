import type { CookieSerializeOptions } from '@fastify/cookie';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock';
import { appConfig, type AppConfig } from '../config/app.config';
import type { Session } from './session.entity';
import { isWellFormedToken } from './session-token';

/**
 * The one owner of the session cookie's name and attributes. With `Secure` the name carries the
 * `__Host-` prefix, which browsers accept only from HTTPS, with Path=/ and no Domain: the cookie
 * cannot be planted by a sibling subdomain or an http:// page.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-session_token' : 'session_token';
}

function attributes(secure: boolean): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'lax', path: '/', secure };
}

function setSessionCookie(
  reply: FastifyReply,
  token: string,
  expiresAt: Date,
  rememberMe: boolean | null,
  now: Date,
  secure: boolean,
): void {
  // remember_me: false asks for a browser-session cookie: no Max-Age, no Expires, so the browser
  // drops it when it closes. The session itself still ends at expires_at, whatever the cookie does.
  if (rememberMe === false) {
    void reply.setCookie(sessionCookieName(secure), token, attributes(secure));
    return;
  }
  const maxAge = Math.max(0, Math.round((expiresAt.getTime() - now.getTime()) / 1000));
  // Max-Age for browsers, Expires (the same moment) for older clients that only read that.
  void reply.setCookie(sessionCookieName(secure), token, {
    ...attributes(secure),
    maxAge,
    expires: new Date(now.getTime() + maxAge * 1000),
  });
}

/**
 * Ends the cookie at logout, under both names, so a session cookie left under the other one
 * (`session_token` after SESSION_COOKIE_SECURE changed) goes too.
 *
 * No `Clear-Site-Data: "cookies"`: it makes the browser drop every cookie of the site, the
 * known-device cookie (src/auth/device-cookie.ts) with them, so that every logout would make the
 * browser a stranger again, open to the lockouts a flood causes (OWASP's device cookies live past
 * logout). The session cookie is the only cookie that authenticates anything, and it is cleared
 * here by name; the pages keep nothing in storage.
 */
function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  void reply.clearCookie(sessionCookieName(secure), attributes(secure));
  void reply.clearCookie(sessionCookieName(!secure), attributes(!secure));
}

/**
 * The most session cookies of one request that are tried (each costs a lookup). A browser sends
 * one per name, path and domain that matches, so two or three at most in real use.
 */
export const MAX_SESSION_COOKIES = 4;

/**
 * What a request presents, for the guard: `undefined` when nothing (reason `missing`); one token
 * (the usual case: a Bearer token, or the only session cookie); or several, to be tried in order
 * until one authenticates. An empty list means a credential that is no token at all (a malformed
 * `Authorization` header, or only malformed cookies): reason `invalid`.
 */
export type PresentedTokens = string | readonly string[] | undefined;

/**
 * The token(s) a request carries: `Authorization: Bearer`, for clients without a cookie jar, or the
 * session cookie. Never the query string (URLs end up in logs and Referer headers).
 *
 * An `Authorization` header decides on its own: one that is not `Bearer <token>` (`Bearer` alone,
 * `Basic ...`, two tokens, garbage) is an invalid credential, never a reason to fall back to the
 * cookie, so a client that sends a broken header learns it (401) instead of acting as whoever the
 * cookie names.
 *
 * Several cookies of the session cookie's name on one request (a sibling subdomain, or an http://
 * page without the `__Host-` prefix, can add one with another Domain or Path; the browser sends both)
 * are all returned, so a planted bad one cannot hide the good one. @fastify/cookie keeps only
 * the first, so then the raw header is read; the one-cookie request, nearly all of them, costs two
 * `indexOf` on the header more than before.
 */
function readSessionTokens(req: FastifyRequest, secure: boolean): PresentedTokens {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? match[1] : [];
  }
  const name = sessionCookieName(secure);
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  const first = header.indexOf(`${name}=`);
  if (first === -1) return undefined;
  if (header.indexOf(`${name}=`, first + name.length) === -1) {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }
  return sessionCookieValues(header, name);
}

/**
 * Every value of cookie `name` in a Cookie header, in the header's order, without duplicates, the
 * malformed ones left out (they cannot name a session), at most MAX_SESSION_COOKIES. Undefined when
 * the name is not there at all (it was only part of another cookie's name or value).
 */
export function sessionCookieValues(header: string, name: string): PresentedTokens {
  const tokens: string[] = [];
  let present = false;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || pair.slice(0, equals).trim() !== name) continue;
    present = true;
    const value = pair
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (isWellFormedToken(value) && !tokens.includes(value)) tokens.push(value);
    if (tokens.length === MAX_SESSION_COOKIES) break;
  }
  if (!present) return undefined;
  return tokens.length === 1 ? tokens[0] : tokens;
}

/**
 * The one owner of the session cookie: its name and attributes (SESSION_COOKIE_SECURE), its
 * lifetime (the session's expiry, from the clock's now, or the browser session for remember_me
 * false) and how a request's token is read.
 * Controllers hand it the reply and the session; nothing else writes or reads the cookie.
 */
@Injectable()
export class SessionCookie {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * Sets the cookie for a new session: living exactly as long as the session (remember_me true or
   * not sent), or until the browser closes (remember_me false).
   */
  set(reply: FastifyReply, session: Pick<Session, 'expiresAt' | 'rememberMe'>, token: string): void {
    setSessionCookie(reply, token, session.expiresAt, session.rememberMe, this.clock.now(), this.config.cookieSecure);
  }

  /** Ends the cookie (logout, or deleting the caller's own session). */
  clear(reply: FastifyReply): void {
    clearSessionCookie(reply, this.config.cookieSecure);
  }

  /** The token(s) the request presents (Bearer or cookies; see PresentedTokens). */
  read(req: FastifyRequest): PresentedTokens {
    return readSessionTokens(req, this.config.cookieSecure);
  }

  /**
   * Whether the request's credential is its `Authorization` header: when there is one, it alone
   * decides (the cookie is not read, see readSessionTokens), so a request that has a session and
   * this header was authenticated by Bearer.
   */
  presentsBearer(req: FastifyRequest): boolean {
    return req.headers.authorization !== undefined;
  }
}
