import type { CookieSerializeOptions } from '@fastify/cookie';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock';
import { appConfig, type AppConfig } from '../config/app.config';
import type { Session } from './session.entity';

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
 * The token a request carries: the session cookie, or `Authorization: Bearer` for clients without
 * a cookie jar. Never the query string (URLs end up in logs and Referer headers).
 */
function readSessionToken(req: FastifyRequest, secure: boolean): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match) return match[1];
  }
  const cookies = req.cookies as Record<string, unknown> | undefined;
  const value = cookies?.[sessionCookieName(secure)];
  return typeof value === 'string' && value !== '' ? value : undefined;
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

  /** The token the request carries (cookie or Bearer), if any. */
  read(req: FastifyRequest): string | undefined {
    return readSessionToken(req, this.config.cookieSecure);
  }
}
