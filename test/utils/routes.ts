import type { TestUser } from './test-app';

/**
 * The one catalogue of the server's HTTP routes, for the specs that walk every route (OpenAPI,
 * hostile input, properties). `test/routes.e2e-spec.ts` compares it with the routes Fastify really
 * registers, both ways: a new route fails that spec until it is added here, and then every spec
 * that walks the catalogue covers it.
 */

export type Method = 'get' | 'post' | 'patch' | 'delete';

/**
 * As the route's @Auth says: public (`mode: 'public'`): needs no session and ignores one.
 * optional: works without a session and looks at one if it is there (admin routes too, which
 * answer 404 to anyone but an administrator). session (`required`, the default): refused (401)
 * without a valid session.
 */
export type Access = 'public' | 'optional' | 'session';

/** What a body or a sample path is built from. */
export interface RouteContext {
  /** Who calls: a body that carries a password (login, change_password) carries this one. */
  caller: Pick<TestUser, 'email' | 'password'>;
  /** Another user, for a route that names one (a chat's receiver, a conversation). */
  other: Pick<TestUser, 'id'>;
  /** A fresh suffix, for what must be unique (a new account's email). */
  unique: () => string;
}

export interface CatalogueRoute {
  method: Method;
  /** As the server declares it, parameters as `:name` (`/chats/:user_id`). */
  path: string;
  /** api: answers JSON; page: a browser page (text/html). */
  kind: 'api' | 'page';
  access: Access;
  /** A body the route accepts (the caller's password where it takes one); none: it reads no body. */
  body?: (ctx: RouteContext) => Record<string, unknown>;
  /** Also takes a browser's form post (application/x-www-form-urlencoded). */
  form?: true;
  /** A success ends the session the request carries (it may start a new one). */
  endsSession?: true;
  /** The status of a success. */
  success: number;
  /** A path to call, parameters filled in; the path itself when it has none. */
  sample?: (ctx: RouteContext) => string;
  /** What the sample answers to a valid session and body, where it is not `success`. */
  sampleAnswer?: number;
  /** What a call without a session and without a body answers, where `signedOutStatus` would guess wrong. */
  signedOut?: number;
  /** Takes the paging query (`limit`, `before_id`). */
  paged?: true;
  /**
   * Its successes are limited per account (3 an hour): past that, the same valid call answers 429
   * with Retry-After.
   */
  limitedPerAccount?: true;
  /**
   * For administrators only (ADMIN_EMAILS): anyone else, signed in or not, gets the 404 of an
   * unknown route whatever the parameters, so the specs that call as an ordinary user expect 404.
   */
  admin?: true;
}

/** A well-formed mail token that no link carries. */
export const UNKNOWN_MAIL_TOKEN = 'A'.repeat(43);

/**
 * A WebAuthn response of the right shape (PublicKeyCredential.toJSON()) that answers no challenge
 * the server issued: it passes validation and is refused (401) without changing anything.
 */
export const UNKNOWN_PASSKEY_ASSERTION = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  clientExtensionResults: {},
  response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
};
const UNKNOWN_PASSKEY_CREDENTIAL = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  clientExtensionResults: {},
  response: { clientDataJSON: 'e30', attestationObject: 'AAAA', transports: ['internal'] },
};

export const ROUTES: readonly CatalogueRoute[] = [
  {
    method: 'post',
    path: '/signup',
    kind: 'api',
    access: 'public',
    form: true,
    success: 201,
    body: (ctx) => ({
      name: 'Route Sample',
      phone: '+1 555 0100',
      email: `route-sample-${ctx.unique()}@example.com`,
      password: 'correct horse battery',
    }),
  },
  {
    method: 'post',
    path: '/login',
    kind: 'api',
    access: 'optional',
    form: true,
    endsSession: true,
    success: 200,
    body: (ctx) => ({ email: ctx.caller.email, password: ctx.caller.password }),
  },
  { method: 'get', path: '/logout', kind: 'api', access: 'optional', endsSession: true, success: 200 },
  { method: 'post', path: '/logout', kind: 'api', access: 'optional', endsSession: true, success: 200 },
  { method: 'get', path: '/session_status', kind: 'api', access: 'session', success: 200 },
  {
    method: 'post',
    path: '/change_password',
    kind: 'api',
    access: 'session',
    endsSession: true,
    success: 200,
    body: (ctx) => ({ current_password: ctx.caller.password, new_password: 'another good password' }),
  },
  {
    method: 'post',
    path: '/reauthenticate',
    kind: 'api',
    access: 'session',
    success: 200,
    body: (ctx) => ({ password: ctx.caller.password }),
  },
  { method: 'get', path: '/login_activity', kind: 'api', access: 'session', success: 200 },
  {
    method: 'post',
    path: '/login/second_factor',
    kind: 'api',
    access: 'optional',
    form: true,
    success: 200,
    // No sign-in is pending for the request: the sample starts nothing.
    body: () => ({ code: '123456' }),
    sampleAnswer: 401,
  },
  { method: 'get', path: '/totp', kind: 'api', access: 'session', success: 200 },
  // The caller's app is set up (pending) by the sample: it changes nothing a sign-in depends on.
  { method: 'post', path: '/totp/setup', kind: 'api', access: 'session', success: 200 },
  {
    method: 'post',
    path: '/totp/confirm',
    kind: 'api',
    access: 'session',
    success: 200,
    // A code no app shows (a one-in-a-million guess aside): 400 with or without a pending setup.
    body: () => ({ code: '000000' }),
    sampleAnswer: 400,
  },
  // Never confirmed by a sample, so never on: 404 and nothing changes.
  { method: 'delete', path: '/totp', kind: 'api', access: 'session', success: 200, sampleAnswer: 404 },
  { method: 'post', path: '/recovery_codes', kind: 'api', access: 'session', success: 200, sampleAnswer: 404 },
  {
    method: 'post',
    path: '/forgot_password',
    kind: 'api',
    access: 'public',
    form: true,
    success: 202,
    body: (ctx) => ({ email: ctx.caller.email }),
  },
  {
    method: 'post',
    path: '/reset_password',
    kind: 'api',
    access: 'public',
    form: true,
    success: 200,
    // No link was mailed with this token: the sample changes nothing.
    body: () => ({ token: UNKNOWN_MAIL_TOKEN, new_password: 'another good password' }),
    sampleAnswer: 400,
  },
  {
    method: 'post',
    path: '/verify_email',
    kind: 'api',
    access: 'optional',
    form: true,
    success: 200,
    body: () => ({ token: UNKNOWN_MAIL_TOKEN }),
    sampleAnswer: 400,
  },
  {
    method: 'post',
    path: '/resend_verification',
    kind: 'api',
    access: 'optional',
    form: true,
    success: 202,
    body: (ctx) => ({ email: ctx.caller.email }),
  },
  {
    method: 'post',
    path: '/change_email',
    kind: 'api',
    access: 'session',
    success: 202,
    body: (ctx) => ({ password: ctx.caller.password, new_email: `route-change-${ctx.unique()}@example.com` }),
    limitedPerAccount: true,
  },
  { method: 'post', path: '/login/passkey_options', kind: 'api', access: 'public', success: 200 },
  {
    method: 'post',
    path: '/login/passkey',
    kind: 'api',
    access: 'optional',
    endsSession: true,
    success: 200,
    body: () => ({ response: UNKNOWN_PASSKEY_ASSERTION }),
    sampleAnswer: 401,
  },
  { method: 'post', path: '/reauthenticate/passkey_options', kind: 'api', access: 'session', success: 200 },
  {
    method: 'post',
    path: '/reauthenticate/passkey',
    kind: 'api',
    access: 'session',
    success: 200,
    body: () => ({ response: UNKNOWN_PASSKEY_ASSERTION }),
    sampleAnswer: 401,
  },
  { method: 'post', path: '/passkeys/registration_options', kind: 'api', access: 'session', success: 200 },
  {
    method: 'post',
    path: '/passkeys',
    kind: 'api',
    access: 'session',
    success: 201,
    body: () => ({ response: UNKNOWN_PASSKEY_CREDENTIAL }),
    sampleAnswer: 401,
  },
  { method: 'get', path: '/passkeys', kind: 'api', access: 'session', success: 200 },
  {
    method: 'patch',
    path: '/passkeys/:id',
    kind: 'api',
    access: 'session',
    success: 200,
    body: () => ({ name: 'Renamed' }),
    // No passkey has this id: the sample changes nothing.
    sample: () => '/passkeys/999999',
    sampleAnswer: 404,
  },
  {
    method: 'delete',
    path: '/passkeys/:id',
    kind: 'api',
    access: 'session',
    success: 200,
    sample: () => '/passkeys/999999',
    sampleAnswer: 404,
  },
  { method: 'get', path: '/active_sessions', kind: 'api', access: 'session', success: 200 },
  { method: 'delete', path: '/active_sessions', kind: 'api', access: 'session', success: 200 },
  {
    method: 'delete',
    path: '/active_sessions/:id',
    kind: 'api',
    access: 'session',
    success: 204,
    // No session has this id: the sample ends nothing.
    sample: () => '/active_sessions/999999',
    sampleAnswer: 404,
  },
  // JSON by default; the dashboard page for a client that prefers HTML.
  { method: 'get', path: '/userpage', kind: 'api', access: 'session', success: 200 },
  {
    method: 'post',
    path: '/chats',
    kind: 'api',
    access: 'session',
    success: 201,
    body: (ctx) => ({ receiver_id: ctx.other.id, message: 'hello' }),
  },
  { method: 'get', path: '/chats', kind: 'api', access: 'session', success: 200 },
  {
    method: 'get',
    path: '/chats/:user_id',
    kind: 'api',
    access: 'session',
    paged: true,
    success: 200,
    sample: (ctx) => `/chats/${ctx.other.id}`,
  },
  {
    method: 'post',
    path: '/global_chat',
    kind: 'api',
    access: 'session',
    success: 201,
    body: () => ({ message: 'hello' }),
  },
  { method: 'get', path: '/global_chat', kind: 'api', access: 'session', paged: true, success: 200 },
  // Administrators only: an ordinary caller (every walking spec's) gets 404, signed in or not.
  { method: 'get', path: '/admin/users', kind: 'api', access: 'optional', admin: true, success: 200 },
  {
    method: 'get',
    path: '/admin/users/:id/sessions',
    kind: 'api',
    access: 'optional',
    admin: true,
    success: 200,
    sample: (ctx) => `/admin/users/${ctx.other.id}/sessions`,
  },
  {
    method: 'delete',
    path: '/admin/users/:id/sessions',
    kind: 'api',
    access: 'optional',
    admin: true,
    success: 200,
    sample: (ctx) => `/admin/users/${ctx.other.id}/sessions`,
  },
  {
    method: 'post',
    path: '/admin/users/:id/disable',
    kind: 'api',
    access: 'optional',
    admin: true,
    success: 200,
    sample: (ctx) => `/admin/users/${ctx.other.id}/disable`,
  },
  {
    method: 'post',
    path: '/admin/users/:id/enable',
    kind: 'api',
    access: 'optional',
    admin: true,
    success: 200,
    sample: (ctx) => `/admin/users/${ctx.other.id}/enable`,
  },
  { method: 'get', path: '/health', kind: 'api', access: 'public', success: 200 },
  { method: 'get', path: '/health/live', kind: 'api', access: 'public', success: 200 },
  { method: 'get', path: '/signup_page', kind: 'page', access: 'public', success: 200 },
  { method: 'get', path: '/login_page', kind: 'page', access: 'optional', success: 200 },
  { method: 'get', path: '/login_second_factor_page', kind: 'page', access: 'public', success: 200 },
  { method: 'get', path: '/forgot_password_page', kind: 'page', access: 'public', success: 200 },
  { method: 'get', path: '/reset_password_page', kind: 'page', access: 'public', success: 200 },
  { method: 'get', path: '/verify_email_page', kind: 'page', access: 'public', success: 200 },
];

/**
 * Routes the server has that are not its own handlers, so not in the catalogue: each `METHOD path`
 * of Fastify's route table that matches one of these is left out of the comparison. A HEAD route
 * is covered by the GET route of the same path (Fastify adds one for every GET; HEAD /logout is a
 * handler of its own that does nothing, see AuthController).
 */
export const NOT_IN_CATALOGUE: ReadonlyArray<{ route: RegExp; what: string }> = [
  { route: /^OPTIONS \*$/, what: 'CORS preflight (@fastify/cors, app.enableCors)' },
  { route: /^(GET|HEAD) \/docs(|\/|\/.+|-json|-yaml)$/, what: 'the OpenAPI page, its JSON and YAML, its files' },
  {
    route: /^(GET|HEAD) \/assets\/([0-9a-f]{12}\/)?(vendor\/)?\*$/,
    what: "the pages' static files, versioned and not (@fastify/static)",
  },
  { route: /^(GET|HEAD) \/favicon\.ico$/, what: 'the icon (app.setup.ts)' },
];

/** `GET /chats/:user_id`: how specs name a route. */
export function routeLabel(route: CatalogueRoute): string {
  return `${route.method.toUpperCase()} ${route.path}`;
}

/** The route as an OpenAPI path (`/chats/{user_id}`). */
export function openApiPath(route: CatalogueRoute): string {
  return route.path.replace(/:(\w+)/g, '{$1}');
}

/** The path to call. */
export function samplePath(route: CatalogueRoute, ctx: RouteContext): string {
  return route.sample?.(ctx) ?? route.path;
}

/** What the route answers without a session and without a body. */
export function signedOutStatus(route: CatalogueRoute): number {
  if (route.signedOut !== undefined) return route.signedOut;
  if (route.admin) return 404;
  if (route.access === 'session') return 401;
  // An empty body misses every required field.
  return route.body ? 400 : route.success;
}

/** The route with this label; throws for one the catalogue does not have. */
export function route(label: string): CatalogueRoute {
  const found = ROUTES.find((r) => routeLabel(r) === label);
  if (!found) throw new Error(`no route ${label} in test/utils/routes.ts`);
  return found;
}

/** What the sample answers to an ordinary (not admin) caller with a valid session and body. */
export function sampleStatus(route: CatalogueRoute): number {
  if (route.admin) return 404;
  return route.sampleAnswer ?? route.success;
}

export const API_ROUTES = ROUTES.filter((r) => r.kind === 'api');
export const PAGE_ROUTES = ROUTES.filter((r) => r.kind === 'page');
