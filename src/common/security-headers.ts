import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import varyHeader from 'vary';
import type { RouteTraits } from './access/route-traits';

/**
 * Adds a field to the response's Vary header (once), with the `vary` package's rules. Its
 * `vary(res, field)` works on the Node response, whose headers Fastify's own (those @fastify/cors
 * sets, on the reply) would replace when sent; so its `append` is applied to the reply's header.
 */
export function vary(reply: FastifyReply, field: string): void {
  const current = reply.getHeader('vary');
  reply.header('vary', varyHeader.append(current === undefined ? '' : String(current), field));
}

/**
 * Responses are per user and per moment, so nothing may store them: `no-store` on every response,
 * errors included (this runs before anything that can answer). The OpenAPI page's static assets
 * get it too: the page is small, and one rule for every response is simpler to trust. `Vary:
 * Origin` because the CORS headers depend on it.
 */
export function cacheAndVaryHeaders(route: RouteTraits, reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
  vary(reply, 'Origin');
  if (route.negotiated) vary(reply, 'Accept');
  // Whether GET /logout is honoured depends on Sec-Fetch-Site (state-changing methods are never cached).
  if (route.crossSiteChecked) vary(reply, 'Sec-Fetch-Site');
}

/** Sets the security headers of a response, by the traits of the route the request matched. */
export type SecurityHeaders = (route: RouteTraits, req: FastifyRequest, reply: FastifyReply) => void;

/**
 * helmet for a JSON API that also serves a few HTML pages: a CSP allowing only same-origin scripts
 * and styles (no inline script, no framing, no plugins), and no framing by older browsers either.
 *
 * HSTS and upgrade-insecure-requests only when the session cookie is Secure, i.e. the server is
 * reached over HTTPS: on plain http://localhost they would make browsers insist on an HTTPS
 * localhost (Safari upgrades localhost subresources), and over HTTP browsers ignore HSTS anyway.
 *
 * helmet itself, not @fastify/helmet 13.2.0: the plugin builds a new helmet middleware on every
 * request (its onRequest hook calls `helmet(configuration)` each time, and a second async hook
 * decorates the reply), measured at 8-28 µs a request against 0.4 µs for the two instances built
 * once here, on a /health/live that costs ~110 µs in all. The per-route variant is picked from
 * the route's config, as the plugin would (`inlineStyles`, set where the OpenAPI page is set up).
 */

export function securityHeaders(options: { https: boolean }): SecurityHeaders {
  const directives = {
    'default-src': ["'self'"],
    'base-uri': ["'none'"],
    'connect-src': ["'self'"],
    'font-src': ["'self'", 'data:'],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    ...(options.https ? { 'upgrade-insecure-requests': [] } : {}),
  };
  const common = {
    strictTransportSecurity: options.https ? { maxAge: 31536000, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' as const },
  };
  const api = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives } });
  // Swagger UI's page has two inline <style> blocks and an inline style attribute; its scripts are
  // all files. So its routes alone also allow inline styles (never inline scripts).
  const docs = helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...directives, 'style-src': ["'self'", "'unsafe-inline'"] },
    },
  });
  // helmet only sets headers on the Node response (synchronously); Fastify sends them with its own.
  const next = (): void => undefined;
  return (route, req, reply) => (route.inlineStyles ? docs : api)(req.raw, reply.raw, next);
}

// @fastify/cors is platform-fastify's dependency, not ours: its options type is taken from there.
type FastifyCorsOptions = NonNullable<Parameters<NestFastifyApplication['enableCors']>[0]>;

/**
 * CORS for exactly the ALLOWED_ORIGINS, with credentials (the session cookie). Any other origin
 * gets no CORS header at all, so browsers keep its pages from reading responses; never `*`.
 * A preflight from an allowed origin is answered here (204).
 */
export function corsOptions(allowedOrigins: readonly string[]): FastifyCorsOptions {
  const allowed = new Set(allowedOrigins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: 'GET,POST,DELETE,OPTIONS',
    allowedHeaders: 'Content-Type,Authorization',
    // An OPTIONS request without Access-Control-Request-Method is answered like a preflight (204),
    // as the cors middleware did on Express, rather than refused with 400.
    strictPreflight: false,
    // Lets a frontend honour the wait on 429 and 503.
    exposedHeaders: ['Retry-After'],
    maxAge: 600,
  };
}
