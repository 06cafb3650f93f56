import { ForbiddenException } from '@nestjs/common';
import { REAUTHENTICATION_MESSAGE, REAUTHENTICATION_REQUIRED } from '../common/access/auth.decorator';
import { errorBody } from '../common/http-error';

/**
 * The 403 of an action that needs the password proved recently ("sudo mode", ASVS V7.5.x): ending
 * other sessions and every admin action. A client answers it by asking for the password, sending
 * it to POST /reauthenticate, and repeating the action. Routes document it with @Auth({ recentAuth }).
 */
export function reauthenticationRequired(): ForbiddenException {
  return new ForbiddenException(
    errorBody(403, REAUTHENTICATION_MESSAGE, {
      reason: REAUTHENTICATION_REQUIRED,
    }),
  );
}
