import { ApiProperty } from '@nestjs/swagger';
import { ErrorDto } from '../common/api-docs';
import { AUTH_FAILURE_REASONS, type AuthFailure } from './auth-failure';

/**
 * What each 401 `reason` means, for the OpenAPI document. A Record over AuthFailure, so a reason
 * added to the server's list does not compile until it is described here too.
 */
const REASON_MEANINGS: Record<AuthFailure, string> = {
  missing: 'no token (no cookie, no Bearer header; also what a browser sees once its cookie is gone)',
  invalid: 'a token that is malformed or names no session, or an `Authorization` header that is not `Bearer <token>`',
  logged_out: 'ended by a logout, by deleting it, or by a new login on the same client',
  revoked: 'ended from another session, by a password change, or by the session cap (`MAX_SESSIONS_PER_USER`)',
  expired: 'past its `expires_at`',
  idle_timeout: 'unused for longer than `SESSION_IDLE_TIMEOUT`',
  account_disabled: 'its account was disabled',
  revoked_by_admin: 'ended by an administrator (`DELETE /admin/users/{id}/sessions`)',
  password_reset: 'ended because the password was reset through a mailed link (`POST /reset_password`)',
};

/**
 * The session guard's 401 body. @Auth (common/access) refers to it by name; AuthController
 * registers it (@ApiExtraModels), since only auth knows every reason a session can have ended.
 */
export class UnauthorizedDto extends ErrorDto {
  // The model's own example is a 401 too (ErrorDto's is a 400), where Swagger UI shows the schema.
  @ApiProperty({ example: 401 }) declare statusCode: number;
  @ApiProperty({ example: 'Unauthorized' }) declare error: string;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'Authentication required',
  })
  declare message: string | string[];
  @ApiProperty({ example: false }) authenticated: boolean;
  @ApiProperty({
    enum: AUTH_FAILURE_REASONS,
    description: `Why the request has no valid session: ${AUTH_FAILURE_REASONS.map((r) => `\`${r}\`: ${REASON_MEANINGS[r]}`).join('; ')}.`,
  })
  reason: string;
}
