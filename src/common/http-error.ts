import { ConflictException, HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/** The error body every client sees: Nest's shape, optionally with route-specific fields. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  [extra: string]: unknown;
}

/** Standard reason phrase for a status ("Bad Request", "Payload Too Large", ...). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}

export function errorBody(status: number, message: string | string[], extra: Record<string, unknown> = {}): ErrorBody {
  return { statusCode: status, error: reasonPhrase(status), message, ...extra };
}

/** An HTTP error that also sets response headers (Retry-After on 503, for instance). */
export class HttpErrorWithHeaders extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly headers: Record<string, string>,
  ) {
    super(errorBody(status, message), status);
  }
}

/** The message of the 409 below, also shown as its example in the OpenAPI document. */
export const CREDENTIALS_CHANGED =
  "The account's credentials or sessions changed while this request ran; nothing was done (sign in again)";

/**
 * The 409 of a request that lost a race to a credential change of the same account (another
 * password change, a disable, an "end all"; UsersService.changeCredentials): it changed nothing,
 * and the client's session (if it had one) is no longer valid. A login, a password change and an
 * "end all" answer it.
 */
export function credentialsChanged(): ConflictException {
  return new ConflictException(CREDENTIALS_CHANGED);
}
