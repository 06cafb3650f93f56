import type { NextFunction, Request, Response } from 'express';
import { errorBody } from './http-error';

/** Largest request body accepted, on every route. */
export const BODY_LIMIT = '100kb';

/** Routes that also take classic HTML form posts (application/x-www-form-urlencoded). */
export const FORM_ROUTES = new Set(['/signup', '/login']);

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Refuses a body in a media type the route does not take (415) before any parser reads it: JSON
 * everywhere, and URL-encoded forms only on the form routes.
 */
export function requireSupportedBody(req: Request, res: Response, next: NextFunction): void {
  if (!hasBody(req)) return next();
  if (req.is('application/json')) return next();
  // Routing is not strict about a trailing slash (/login/ is /login), so neither is this check.
  const formRoute = FORM_ROUTES.has(req.path.replace(/(.)\/+$/, '$1'));
  if (req.is('application/x-www-form-urlencoded') && formRoute) return next();
  const accepted = formRoute ? 'application/json or application/x-www-form-urlencoded' : 'application/json';
  res.status(415).json(errorBody(415, `Content-Type must be ${accepted}`));
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/** Turns body-parser failures into the contract's error shape, without the parser's wording. */
export function bodyParserErrorHandler(err: BodyParserError, _req: Request, res: Response, next: NextFunction): void {
  // body-parser marks its own errors with a `type`; a few (a corrupt gzip/deflate body) carry only a 4xx status.
  const clientStatus = typeof err?.status === 'number' && err.status >= 400 && err.status < 500;
  if (!err || (typeof err.type !== 'string' && !clientStatus)) return next(err);
  switch (err.type) {
    case 'entity.too.large':
      res.status(413).json(errorBody(413, `Request body must not exceed ${BODY_LIMIT}`));
      return;
    case 'entity.parse.failed':
      res.status(400).json(errorBody(400, 'Request body is not valid JSON'));
      return;
    case 'encoding.unsupported':
    case 'charset.unsupported':
      res.status(415).json(errorBody(415, 'Request body must be UTF-8'));
      return;
    default:
      res.status(err.status && err.status >= 400 && err.status < 500 ? err.status : 400).json(
        errorBody(err.status && err.status >= 400 && err.status < 500 ? err.status : 400, 'Request body could not be read'),
      );
  }
}
