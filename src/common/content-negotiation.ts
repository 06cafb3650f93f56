import accepts from 'accepts';
import type { IncomingMessage } from 'node:http';

/**
 * True when the client prefers a page to JSON: a browser navigating sends `Accept: text/html,...`;
 * fetch, curl and API clients send nothing or JSON, and get JSON. The one rule for every route that
 * answers a browser differently (the dashboard, the login redirect, plain HTML form posts).
 */
export function prefersHtml(req: { headers: IncomingMessage['headers'] }): boolean {
  // accepts reads only the Accept header (the same negotiation Express's req.accepts did).
  return accepts(req as IncomingMessage).type(['json', 'html']) === 'html';
}
