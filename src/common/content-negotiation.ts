import type { Request } from 'express';

/**
 * True when the client prefers a page to JSON: a browser navigating sends `Accept: text/html,...`;
 * fetch, curl and API clients send nothing or JSON, and get JSON. The one rule for every route that
 * answers a browser differently (the dashboard, the login redirect, plain HTML form posts).
 */
export function prefersHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}
