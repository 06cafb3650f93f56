import { parse as parseQueryString } from 'node:querystring';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorBody, type ErrorBody } from './http-error';

/** Largest request body accepted, on every route, counted after any Content-Encoding is undone. */
export const BODY_LIMIT_BYTES = 100 * 1024;
export const BODY_LIMIT = '100kb';

/** Most fields a form post may carry (the forms have four). */
const FORM_FIELD_LIMIT = 100;

/** The request encodings taken; a body in any other gets 415 before it is read. */
const DECODERS: Record<string, (() => NodeJS.ReadWriteStream) | undefined> = {
  gzip: createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** What the parsers answer for JSON they cannot take (not JSON, or not an object or array). */
const NOT_JSON = 'Request body is not valid JSON';
const NOT_UTF8 = 'Request body is not valid UTF-8';

/**
 * Bodies are read as bytes and decoded here, strictly: Fastify's own `parseAs: 'string'` decodes
 * as it reads, turning bad bytes into U+FFFD, and then finds the decoded length differing from
 * Content-Length ("did not match Content-Length", a wrong reason), or, for a chunked body,
 * goes on with the replacement characters. A leading BOM is dropped.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text, or undefined when it is not valid UTF-8. */
function utf8Text(body: Buffer): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}
const TOO_LARGE = `Request body must not exceed ${BODY_LIMIT}`;

/** The request's Content-Encoding, normalized (`identity` when there is none). */
function contentEncoding(req: FastifyRequest): string {
  return (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
}

function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The media type (lower-cased, without parameters) and charset of a Content-Type header. */
function mediaType(header: string | undefined): { type: string; charset?: string } {
  const [type = '', ...params] = (header ?? '').split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [name, value] = param.split('=');
    if (name?.trim().toLowerCase() === 'charset')
      charset = (value ?? '')
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

/**
 * Refuses a body in a media type, charset or encoding the route does not take (415) before any
 * parser reads it: JSON everywhere, and URL-encoded forms only on the routes that take form posts
 * (RouteTraits.form); UTF-8 only; gzip, deflate or br compression or none. Returns the error to
 * send, or undefined to go on.
 */
export function unsupportedBody(req: FastifyRequest, formRoute: boolean): ErrorBody | undefined {
  if (!hasBody(req)) return undefined;
  const { type, charset } = mediaType(req.headers['content-type']);
  if (type !== 'application/json' && !(type === 'application/x-www-form-urlencoded' && formRoute)) {
    const accepted = formRoute ? 'application/json or application/x-www-form-urlencoded' : 'application/json';
    return errorBody(415, `Content-Type must be ${accepted}`);
  }
  if (charset !== undefined && charset !== 'utf-8') return errorBody(415, 'Request body must be UTF-8');
  const encoding = contentEncoding(req);
  if (encoding !== 'identity' && !DECODERS[encoding])
    return errorBody(415, 'Content-Encoding must be gzip, deflate, br or identity');
  return undefined;
}

/**
 * Fastify never reads the body of a GET or HEAD request (nor do its preParsing hooks run);
 * Express did, and the contract's rules (over 100 kB → 413, malformed
 * JSON → 400) are for every route. So such a body is read here, checked as a POST body would be
 * (decompressed, limited, parsed) and then dropped: no GET route reads a body. Resolves to the
 * error to send, or undefined to go on.
 */
export function checkIgnoredBody(req: FastifyRequest): Promise<ErrorBody | undefined> {
  return new Promise((resolve) => {
    const decoder = DECODERS[contentEncoding(req)];
    const stream: NodeJS.ReadableStream = decoder ? req.raw.pipe(decoder()) : req.raw;
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const finish = (error: ErrorBody | undefined): void => {
      if (settled) return;
      settled = true;
      // The rest of an oversized body is read and discarded, so the connection stays usable.
      req.raw.resume();
      resolve(error);
    };
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > BODY_LIMIT_BYTES) finish(errorBody(413, TOO_LARGE));
      else chunks.push(chunk);
    });
    stream.on('error', () => finish(errorBody(400, 'Request body could not be read')));
    stream.on('end', () => {
      if (mediaType(req.headers['content-type']).type !== 'application/json') return finish(undefined);
      const text = utf8Text(Buffer.concat(chunks));
      if (text === undefined) return finish(errorBody(400, NOT_UTF8));
      if (text === '') return finish(undefined);
      try {
        const value: unknown = JSON.parse(text);
        finish(typeof value === 'object' && value !== null ? undefined : errorBody(400, NOT_JSON));
      } catch {
        finish(errorBody(400, NOT_JSON));
      }
    });
  });
}

/** Whether Fastify leaves this request's body unread (see checkIgnoredBody). */
export function hasIgnoredBody(req: FastifyRequest): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && hasBody(req);
}

/** A parser's refusal, with the status the error handler answers with (see AllExceptionsFilter). */
export class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/**
 * The body parsers: JSON (an object or array, as Express's strict parser took: anything else is
 * "not valid JSON", as it was there; `__proto__` and
 * `constructor.prototype` keys refused) and URL-encoded forms (flat key=value, at most 100
 * fields), each read up to BODY_LIMIT after decompression and decoded as strict UTF-8 (400 otherwise), so a small gzip body cannot
 * inflate past it. An empty body is no body. Parser failures reach AllExceptionsFilter with the
 * statuses Fastify gives them (400, 413), in the contract's error shape.
 *
 * Request bodies are decompressed here, in one preParsing hook, rather than by @fastify/compress
 * 9.2.0's request decoding: the plugin attaches its hook to each route as it is registered
 * (onRoute), and Fastify's not-found handler is no route (setNotFoundHandler takes no preParsing),
 * so a gzip body sent to an unknown path was parsed still compressed and answered 400 "Request
 * body is not valid UTF-8" where the contract answers 404 (tested: edge-cases spec, "a compressed
 * body"). Fastify checks the bytes that arrived against Content-Length (`receivedEncodedLength`)
 * and the decoded ones against the 100 kB limit, so a small gzip body cannot inflate past it.
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (req, _reply, payload, done) => {
    const decoder = DECODERS[contentEncoding(req)];
    if (!decoder) return done(null, payload);
    const decoded = decoder() as NodeJS.ReadWriteStream & { receivedEncodedLength?: number };
    decoded.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => (decoded.receivedEncodedLength! += chunk.length));
    payload.on('error', (error) => (decoded as unknown as Readable).destroy(error));
    payload.pipe(decoded);
    done(null, decoded as unknown as typeof payload);
  });

  const jsonParser = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const text = utf8Text(body as Buffer);
    if (text === undefined) return done(new BodyError(400, NOT_UTF8), undefined);
    if (text === '') return done(null, undefined);
    void jsonParser(req, text, (error, value) => {
      if (error || typeof value !== 'object' || value === null) return done(new BodyError(400, NOT_JSON), undefined);
      done(null, value);
    });
  });

  // By hand, not @fastify/formbody 9.0.2: it decodes with `body.toString()`, which turns bytes
  // that are not UTF-8 into U+FFFD instead of the contract's 400 "Request body is not valid UTF-8"
  // (bad-input spec), and its fast-querystring parser has no field limit (the 413 past 100 fields).
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    const text = utf8Text(body as Buffer);
    if (text === undefined) return done(new BodyError(400, NOT_UTF8), undefined);
    if (text.split('&').length > FORM_FIELD_LIMIT)
      return done(new BodyError(413, `A form may have at most ${FORM_FIELD_LIMIT} fields`), undefined);
    done(null, text === '' ? undefined : { ...parseQueryString(text, '&', '=', { maxKeys: FORM_FIELD_LIMIT }) });
  });
}

/** Fastify's own errors for a body it could not read, in the contract's words. */
export function bodyErrorBody(error: unknown): ErrorBody | undefined {
  if (error instanceof BodyError) return errorBody(error.statusCode, error.message);
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorBody(413, TOO_LARGE);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return errorBody(415, 'Content-Type must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errorBody(400, 'Request body length does not match Content-Length');
    case 'FST_ERR_BAD_URL':
      return errorBody(400, 'Malformed URL');
    default:
      // A stream error while the body arrived (a corrupt gzip body, an aborted upload).
      return errorBody(statusCode, statusCode === 400 ? 'Request body could not be read' : reasonFor(statusCode));
  }
}

function reasonFor(status: number): string {
  return errorBody(status, '').error;
}
