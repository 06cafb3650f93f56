import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** Where SwaggerUiModule serves the OpenAPI page and its assets (the JSON is at /docs-json). */
export const DOCS_PATH = '/docs';

/** Routes whose answer depends on Accept: a browser gets a page or a redirect, other clients JSON. */
const NEGOTIATED_ROUTES = new Set(['/userpage']);

function routeKey(path: string): string {
  // Routing ignores case and a trailing slash, so the header rules do too.
  return path.toLowerCase().replace(/(.)\/+$/, '$1');
}

function isDocsPath(path: string): boolean {
  const key = routeKey(path);
  return key === DOCS_PATH || key.startsWith(`${DOCS_PATH}/`);
}

/**
 * Responses are per user and per moment, so nothing may store them: `no-store` on every response,
 * errors included (this runs before anything that can answer). The OpenAPI page's static assets
 * get it too: the page is small, and one rule for every response is simpler to trust. `Vary:
 * Origin` because the CORS headers depend on it.
 */
export function cacheAndVaryHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  res.vary('Origin');
  if (NEGOTIATED_ROUTES.has(routeKey(req.path))) res.vary('Accept');
  next();
}

/**
 * helmet for a JSON API that also serves a few HTML pages: a CSP allowing only same-origin scripts
 * and styles (no inline script, no framing, no plugins), and no framing by older browsers either.
 *
 * HSTS and upgrade-insecure-requests only when the session cookie is Secure, i.e. the server is
 * reached over HTTPS: on plain http://localhost they would make browsers insist on an HTTPS
 * localhost (Safari upgrades localhost subresources), and over HTTP browsers ignore HSTS anyway.
 */
export function securityHeaders(options: { https: boolean }): RequestHandler {
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
  // all files. So /docs alone also allows inline styles (never inline scripts).
  const docs = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: { ...directives, 'style-src': ["'self'", "'unsafe-inline'"] } },
  });
  return (req, res, next) => (isDocsPath(req.path) ? docs : api)(req, res, next);
}

/**
 * CORS for exactly the ALLOWED_ORIGINS, with credentials (the session cookie). Any other origin
 * gets no CORS header at all, so browsers keep its pages from reading responses; never `*`.
 * A preflight from an allowed origin is answered here (204).
 */
export function corsOptions(allowedOrigins: readonly string[]): CorsOptions {
  const allowed = new Set(allowedOrigins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    // Lets a frontend honour the wait on 429 and 503.
    exposedHeaders: ['Retry-After'],
    maxAge: 600,
  };
}
