import { HttpException } from '@nestjs/common';
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
