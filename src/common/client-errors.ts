import type { Duplex } from 'node:stream';
import { errorBody } from './http-error';

const STATUS_BY_CODE: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_TIMEOUT: 408,
};

/**
 * Requests Node rejects before Fastify sees them (headers over 16 kB, unparsable request lines)
 * get the contract's JSON error shape, with the status that says why (Fastify's
 * `clientErrorHandler`; its own answers every case with 400).
 */
export function answerClientErrorAsJson(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = STATUS_BY_CODE[error.code ?? ''] ?? 400;
  const message =
    status === 431 ? 'Request headers are too large' : status === 408 ? 'Request timed out' : 'Malformed HTTP request';
  const body = JSON.stringify(errorBody(status, message));
  const reason = errorBody(status, '').error;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}
