import { applyDecorators, UnauthorizedException } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtraModels, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorDto, errorExample } from '../api-docs';
import { errorBody } from '../http-error';
import { WithRouteTraits, type AccessRule } from './route-traits';

/** The OpenAPI security schemes of a session: the cookie, or the same token as a bearer token. */
export const COOKIE_SCHEME = 'session_cookie';
export const BEARER_SCHEME = 'bearer';

/**
 * The 401 body's schema, named here and defined by the auth feature (auth/api-session.ts, which
 * knows every reason a session can have ended and registers the schema with @ApiExtraModels):
 * `common/` imports no feature.
 */
const UNAUTHORIZED_SCHEMA = 'UnauthorizedDto';

const NO_SESSION_EXAMPLE = errorExample(401, 'Session is not valid (expired)', {
  authenticated: false,
  reason: 'expired',
});

/** The `reason` of the 403 that asks for the password again. */
export const REAUTHENTICATION_REQUIRED = 'reauthentication_required';
export const REAUTHENTICATION_MESSAGE = 'Confirm your password first (POST /reauthenticate), then try again';

export class ReauthRequiredDto extends ErrorDto {
  @ApiProperty({
    required: false,
    enum: [REAUTHENTICATION_REQUIRED],
    description:
      'Present when the password was last proved more than REAUTH_MAX_AGE seconds ago (session `auth_time`): send it to POST /reauthenticate and repeat. Absent on a cross-site refusal.',
  })
  reason?: string;
}

/**
 * The session guard's 401: no valid session on a route that needs one. A class of its own so that
 * the exception filter can send a signed-out browser to the route's `redirectBrowsersTo` page
 * instead (the guard only says "no session"; what a browser sees is the filter's business).
 */
export class SessionRequiredException extends UnauthorizedException {}

/** The 401 for a request without a valid session, naming why (`missing`, `invalid`, or why it ended). */
export function sessionRequired(reason: string): SessionRequiredException {
  const message = reason === 'missing' ? 'Authentication required' : `Session is not valid (${reason})`;
  return new SessionRequiredException(errorBody(401, message, { authenticated: false, reason }));
}

export interface AuthOptions {
  /** Default `required` (the guard denies by default: a route without @Auth needs a session). */
  mode?: AccessRule['mode'];
  /** See AccessRule.redirectBrowsersTo. */
  redirectBrowsersTo?: string;
  /**
   * The route can answer 403 `reauthentication_required` (the password must have been proved
   * within REAUTH_MAX_AGE): `true` always, or a text saying when. Documentation: on admin routes
   * the guard enforces it; elsewhere the service decides, since it can depend on the target.
   */
  recentAuth?: true | string;
  /**
   * Administrators only (implies a recent password): anyone else, signed in or not, gets the 404
   * of an unknown route before any parameter is validated. A text describes that 404 where the
   * route has a 404 of its own too.
   */
  admin?: true | string;
  /** A 401 of the route's own (plain error shape), besides the session one: when it is given. */
  otherUnauthorized?: string;
}

const NOT_ADMIN = 'Not an administrator (signed in or not): the same 404 as an unknown route.';

/**
 * Who may call a route, declared once: what the session guard enforces (the route's config,
 * read from `req.routeOptions.config.access`) and what the OpenAPI document says (security
 * schemes, the 401, 403 and 404 that follow from it) come from the same options.
 */
export function Auth(options: AuthOptions = {}): ClassDecorator & MethodDecorator {
  const admin = options.admin !== undefined;
  // Admin routes never answer 401: the session is looked up, and anyone else gets the 404.
  const mode = admin ? 'optional' : (options.mode ?? 'required');
  const access: AccessRule = {
    mode,
    ...(admin ? { admin: true as const } : {}),
    ...(options.redirectBrowsersTo ? { redirectBrowsersTo: options.redirectBrowsersTo } : {}),
  };
  const docs: Array<ClassDecorator & MethodDecorator> = [];
  if (mode === 'required' || admin) docs.push(ApiCookieAuth(COOKIE_SCHEME), ApiBearerAuth(BEARER_SCHEME));
  if (mode === 'required') docs.push(unauthorizedResponse(options.otherUnauthorized), ApiExtraModels(ErrorDto));
  if (admin) {
    const notFound = options.admin === true ? NOT_ADMIN : (options.admin as string);
    docs.push(ApiResponse({ status: 404, description: notFound, type: ErrorDto, example: errorExample(404) }));
  }
  const recentAuth = admin ? true : options.recentAuth;
  if (recentAuth !== undefined) docs.push(recentAuthResponse(recentAuth === true ? 'always' : recentAuth));
  return applyDecorators(WithRouteTraits({ access }), ...docs);
}

function unauthorizedResponse(otherUnauthorized: string | undefined) {
  const session = { $ref: getSchemaPath(UNAUTHORIZED_SCHEMA) };
  return otherUnauthorized
    ? ApiResponse({
        status: 401,
        description: `No valid session (\`reason\` tells why), or: ${otherUnauthorized}`,
        schema: { oneOf: [session, { $ref: getSchemaPath(ErrorDto) }] },
        example: NO_SESSION_EXAMPLE,
      })
    : ApiResponse({
        status: 401,
        description: 'No valid session; `reason` tells why.',
        schema: session,
        example: NO_SESSION_EXAMPLE,
      });
}

/** The 403 of a route that needs a recent password: re-authentication, or a cross-site refusal. */
function recentAuthResponse(when: string) {
  return ApiResponse({
    status: 403,
    description: `\`reason: reauthentication_required\` (${when}) when the session's auth_time is older than REAUTH_MAX_AGE (default 600 s); or a cross-site request.`,
    type: ReauthRequiredDto,
    example: errorBody(403, REAUTHENTICATION_MESSAGE, { reason: REAUTHENTICATION_REQUIRED }),
  });
}
