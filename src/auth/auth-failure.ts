import type { UnauthorizedException } from '@nestjs/common';
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
