import type { FastifyRequest } from 'fastify';
import type { RouteTraits } from './access/route-traits';
import { errorBody, type ErrorBody } from './http-error';

/**
 * Cross-site request forgery protection, modelled on Go 1.25's net/http.CrossOriginProtection:
 * browsers say where a request comes from (Fetch Metadata's `Sec-Fetch-Site`, with `Origin` as the
 * fallback for browsers older than 2023), so no CSRF token is needed. Clients that send neither
 * header (curl, Postman, servers) are not browsers acting for a signed-in user and are let through.
 */

/** Methods that never change state here, so never refused (apart from the routes that say otherwise, below). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the decision reads from a request; every field as the request carried it. */
export interface CrossSiteFacts {
  method: string;
  /**
   * The route changes state on a safe method too (GET /logout ends the session, and SameSite=Lax
   * still sends the cookie on a top-level cross-site navigation, a link or a redirect): so a GET or
   * HEAD to it from a cross-site page is refused too. Declared on the route (RouteTraits.crossSiteChecked).
   */
  stateChangingRead: boolean;
  /** `http` or `https`, as Fastify reports it (honouring TRUST_PROXY). */
  protocol: string;
  /** The Host header (or X-Forwarded-Host from a trusted proxy), as Fastify reports it. */
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
}

export type CrossSiteVerdict = { allowed: true } | { allowed: false; reason: string };

const ALLOW: CrossSiteVerdict = { allowed: true };
const refuse = (reason: string): CrossSiteVerdict => ({ allowed: false, reason });

/** `scheme://host[:port]` with default ports dropped and the host lower-cased; undefined if not an http(s) origin. */
function normalizeOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decides whether a request may proceed. Pure, so every rule of API.md "Cross-site requests" is
 * unit-tested. `allowedOrigins` holds ALLOWED_ORIGINS as validated at boot (normalized origins);
 * an Origin is trusted only when it is exactly one of them, as browsers serialize origins.
 */
export function decideCrossSite(req: CrossSiteFacts, allowedOrigins: ReadonlySet<string>): CrossSiteVerdict {
  const origin = req.origin || undefined;
  const site = req.secFetchSite?.trim().toLowerCase() || undefined;
  const trusted = origin !== undefined && allowedOrigins.has(origin);

  if (SAFE_METHODS.has(req.method)) {
    if (req.method === 'OPTIONS' || !req.stateChangingRead || site !== 'cross-site' || trusted) return ALLOW;
    return refuse('a cross-site page cannot log you out');
  }

  if (trusted) return ALLOW;
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return ALLOW;
    return refuse(
      site === 'cross-site' || site === 'same-site' ? `Sec-Fetch-Site is ${site}` : 'Sec-Fetch-Site is not same-origin',
    );
  }
  // No Fetch Metadata: an older browser, or not a browser at all. Fall back to Origin.
  if (origin === undefined) return ALLOW;
  if (origin === 'null') return refuse('Origin is null');
  const own = req.host ? normalizeOrigin(`${req.protocol}://${req.host}`) : undefined;
  if (own !== undefined && normalizeOrigin(origin) === own) return ALLOW;
  return refuse("Origin is neither this server's nor an allowed origin");
}

/**
 * The check as the server runs it, first thing on every request (see app.setup.ts), so a refused
 * request's body is never read and nothing behind it (routing, the session guard, handlers) runs.
 * Returns the 403 to send, or undefined to go on.
 */
export function crossSiteRefusal(
  req: FastifyRequest,
  route: RouteTraits,
  allowed: ReadonlySet<string>,
): ErrorBody | undefined {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  const verdict = decideCrossSite(
    {
      method: req.method,
      stateChangingRead: route.crossSiteChecked === true,
      protocol: req.protocol,
      host: req.host,
      origin: typeof origin === 'string' ? origin : undefined,
      secFetchSite: typeof site === 'string' ? site : undefined,
    },
    allowed,
  );
  return verdict.allowed ? undefined : errorBody(403, `Cross-site request refused: ${verdict.reason}`);
}
