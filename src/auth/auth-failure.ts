import { ForbiddenException, type UnauthorizedException } from '@nestjs/common';
import { errorBody } from '../common/http-error';
import { END_REASONS } from '../sessions/session.entity';
import { sessionRequired } from '../common/access/auth.decorator';

/**
 * Every `reason` a 401 can give, the one list: no token (`missing`), an unknown one (`invalid`),
 * or why its session ended.
 */
export const AUTH_FAILURE_REASONS = ['missing', 'invalid', ...END_REASONS] as const;
export type AuthFailure = (typeof AUTH_FAILURE_REASONS)[number];

/** The 401 for a request without a valid session, naming why. */
export function unauthorized(reason: AuthFailure): UnauthorizedException {
  return sessionRequired(reason);
}

/** The `reason` of the 403 a login gets under REQUIRE_VERIFIED_EMAIL until the address is confirmed. */
export const EMAIL_NOT_VERIFIED = 'email_not_verified';
export const EMAIL_NOT_VERIFIED_MESSAGE =
  'Confirm your e-mail address first: open the link we mailed you, or ask for a new one (POST /resend_verification)';

/**
 * The 403 of a login with the right password to an account whose address is not verified, when
 * REQUIRE_VERIFIED_EMAIL is on. Only after the password is proved: a wrong password still gets the
 * usual 401, so the answer tells nothing about an account to someone without its password.
 */
export function emailNotVerified(): ForbiddenException {
  return new ForbiddenException(errorBody(403, EMAIL_NOT_VERIFIED_MESSAGE, { reason: EMAIL_NOT_VERIFIED }));
}
