import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtraModels, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorDto, errorExample } from '../common/api-docs';
import { AUTH_FAILURE_REASONS } from './auth-failure';

/** The OpenAPI security schemes of a session: the cookie, or the same token as a bearer token. */
export const COOKIE_SCHEME = 'session_cookie';
export const BEARER_SCHEME = 'bearer';

export class UnauthorizedDto extends ErrorDto {
  @ApiProperty({ example: false }) authenticated: boolean;
  @ApiProperty({ enum: AUTH_FAILURE_REASONS, description: 'Why the request has no valid session.' }) reason: string;
}

const NO_SESSION_EXAMPLE = errorExample(401, 'Session is not valid (expired)', {
  authenticated: false,
  reason: 'expired',
});

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
          example: NO_SESSION_EXAMPLE,
        })
      : ApiResponse({
          status: 401,
          description: 'No valid session; `reason` tells why.',
          type: UnauthorizedDto,
          example: NO_SESSION_EXAMPLE,
        }),
    ApiExtraModels(UnauthorizedDto, ErrorDto),
  );
}
