/**
 * A request's path as routing matches it: without the query string, lower-cased, a trailing slash
 * dropped (routing ignores case and a trailing slash, so every rule keyed on a path does too).
 * Computed once per request, in the first hook (app.setup.ts), for every rule that needs it.
 */
export function routeKey(url: string): string {
  const end = url.indexOf('?');
  return (end === -1 ? url : url.slice(0, end)).replace(/(.)\/+$/, '$1').toLowerCase();
}
