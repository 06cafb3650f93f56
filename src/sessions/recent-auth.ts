import { ForbiddenException } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ErrorDto } from '../common/api-docs';
import { errorBody } from '../common/http-error';

/** The `reason` of the 403 that asks for the password again. */
export const REAUTHENTICATION_REQUIRED = 'reauthentication_required';

/**
 * The 403 of an action that needs the password proved recently ("sudo mode", ASVS V7.5.x): ending
 * other sessions and every admin action. A client answers it by asking for the password, sending
 * it to POST /reauthenticate, and repeating the action.
 */
export function reauthenticationRequired(): ForbiddenException {
  return new ForbiddenException(
    errorBody(403, 'Confirm your password first (POST /reauthenticate), then try again', {
      reason: REAUTHENTICATION_REQUIRED,
    }),
  );
}

export class ReauthRequiredDto extends ErrorDto {
  @ApiProperty({
    required: false,
    enum: [REAUTHENTICATION_REQUIRED],
    description:
      'Present when the password was last proved more than REAUTH_MAX_AGE seconds ago (session `auth_time`): send it to POST /reauthenticate and repeat. Absent on a cross-site refusal.',
  })
  reason?: string;
}

/** Documents the 403 of a route that needs a recent password: re-authentication, or a cross-site refusal. */
export function ApiRecentAuth(when = 'always') {
  return ApiResponse({
    status: 403,
    description: `\`reason: reauthentication_required\` (${when}) when the session's auth_time is older than REAUTH_MAX_AGE (default 600 s); or a cross-site request.`,
    type: ReauthRequiredDto,
    example: reauthenticationRequired().getResponse(),
  });
}
