import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtraModels, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { END_REASONS } from '../sessions/session.entity';

export const COOKIE_SCHEME = 'session_cookie';
export const BEARER_SCHEME = 'bearer';

export class ErrorDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['email must be an email'],
    description: 'What is wrong; for validation errors, one entry per bad field.',
  })
  message: string | string[];
}

/** Every `reason` a 401 can give: no token, an unknown one, or why its session ended. */
export const AUTH_FAILURE_REASONS = ['missing', 'invalid', ...END_REASONS] as const;

export class UnauthorizedDto extends ErrorDto {
  @ApiProperty({ example: false }) authenticated: boolean;
  @ApiProperty({ enum: AUTH_FAILURE_REASONS, description: 'Why the request has no valid session.' }) reason: string;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `message` names each bad field.',
  401: 'Not authenticated.',
  403: 'Refused: a cross-site request (see the rule at the top of this document) or, on /login, a deactivated account.',
  404: 'Not found.',
  409: 'Conflict.',
  413: 'Body larger than 100 kB.',
  415: 'Unsupported Content-Type.',
  503: 'Temporarily unavailable; see Retry-After.',
};

/** Documents the error responses a route can give, all in the shared error shape. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error.', type: ErrorDto }),
    ),
  );
}

/**
 * A route that needs a session: cookie or bearer token, 401 otherwise. `otherUnauthorized`: the
 * route's own 401 (in the plain error shape), besides the session one.
 */
export function ApiSession(otherUnauthorized?: string) {
  return applyDecorators(
    ApiCookieAuth(COOKIE_SCHEME),
    ApiBearerAuth(BEARER_SCHEME),
    otherUnauthorized
      ? ApiResponse({
          status: 401,
          description: `No valid session (\`reason\` tells why), or: ${otherUnauthorized}`,
          schema: { oneOf: [{ $ref: getSchemaPath(UnauthorizedDto) }, { $ref: getSchemaPath(ErrorDto) }] },
        })
      : ApiResponse({ status: 401, description: 'No valid session; `reason` tells why.', type: UnauthorizedDto }),
    ApiExtraModels(UnauthorizedDto, ErrorDto),
  );
}
