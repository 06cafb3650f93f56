import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** How long, at most, the rest of a refused body is read after the answer went out. */
export const LINGER_MS = 5_000;
/** How much of it, at most. */
export const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * A lingering close, as Apache and nginx do it (`lingering_close`), for an answer that closes the
 * connection before the request's body has all arrived (a 413 for a body over the limit, chunked or
 * not). Node closes such a socket as soon as the answer is written; the client is still sending,
 * so its next bytes meet a closed socket and the kernel answers with a reset, which can arrive
 * before the client has read the answer and destroy it: a streaming `fetch` saw EPIPE instead of
 * its 413 (issue 17, about one try in five on loopback). Here the answer is sent and the sending
 * side shut (FIN), then the rest of the body is read and thrown away until it ends, the client
 * closes, or LINGER_MS / LINGER_BYTES have passed, and only then is the socket closed. Node has no
 * option for this; it replaces `destroySoon`, which Node's HTTP server calls on the connection's
 * socket after the last response (and nothing else on it does).
 */
export function lingerIfBodyUnread(req: FastifyRequest, reply: FastifyReply): void {
  if (req.raw.complete || reply.getHeader('connection') !== 'close') return;
  const socket = req.raw.socket as Socket & { destroySoon?: () => void };
  if (typeof socket.destroySoon !== 'function') return;
  const body = req.raw;
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    let read = 0;
    const close = (): void => {
      clearTimeout(timer);
      body.off('data', count).off('end', close);
      socket.off('end', close);
      socket.destroy();
    };
    const count = (chunk: Buffer): void => {
      read += chunk.length;
      if (read > LINGER_BYTES) close();
    };
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    if (body.readableEnded) return close();
    // Reading the body (a paused stream would stall the parser) is what takes it off the wire.
    body.on('data', count).once('end', close).resume();
    socket.once('end', close);
  };
}
