import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type DestinationStream, type LevelWithSilent, type SerializedRequest, type SerializedResponse } from 'pino';
import type { AppConfig } from '../config/app.config';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Where log lines go; `null` means standard output. Tests provide a stream to capture them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives the request its id, once: a well-formed `X-Request-Id` from the client or a proxy in front
 * (so one id follows a request across services), otherwise a fresh UUID. Anything else is
 * replaced rather than trusted, since the id is copied into every log line of the request. It is
 * Fastify's request id (`genReqId`), echoed in the response's `X-Request-Id` before anything can
 * answer (see app.setup.ts), so a client can quote it when reporting a problem.
 */
export function requestIdFor(req: IncomingMessage): string {
  if (typeof req.id === 'string') return req.id;
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && WELL_FORMED_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.id = id;
  return id;
}

/** Nest's level names (LOG_LEVEL) in pino's terms. */
export const PINO_LEVELS: Record<AppConfig['logLevel'], LevelWithSilent> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * Secrets that standard request and response serializers would otherwise copy into the request
 * log. Bodies are never logged (pino-http's serializers leave them out), so passwords cannot reach
 * a log line that way.
 */
const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

/** Response headers worth a log line; the security headers are the same on every response. */
const LOGGED_RESPONSE_HEADERS = ['content-length', 'location', 'retry-after', 'set-cookie'];

/**
 * The standard request and response records, trimmed: no route params (an artefact of how Nest
 * mounts middleware) and only the response headers that say what happened.
 */
const serializers = {
  // The path only: a query string may carry a token a client put there (the server refuses it,
  // but it must not reach the logs either).
  req: ({ id, method, url, headers, remoteAddress }: SerializedRequest) => ({ id, method, url: url.split('?')[0], headers, remoteAddress }),
  res: ({ statusCode, headers }: SerializedResponse) => ({
    statusCode,
    headers: Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => LOGGED_RESPONSE_HEADERS.includes(name))),
  }),
};

/**
 * nestjs-pino settings: one JSON line per log call, each request's lines tagged with its id
 * (`reqId`), and one `request completed` line per request with method, url, status and time.
 * Under NODE_ENV=test the logs are silent unless a test hands in a destination to capture them.
 */
export function loggerParams(config: AppConfig, destination: DestinationStream | null): Params {
  const options = {
    level: config.nodeEnv === 'test' && !destination ? 'silent' : PINO_LEVELS[config.logLevel],
    genReqId: (req: IncomingMessage) => requestIdFor(req),
    // Lines logged while handling a request carry just its id, not the whole request again.
    quietReqLogger: true,
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error): LevelWithSilent =>
      error || res.statusCode >= 500 ? 'error' : 'info',
    serializers,
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return { pinoHttp: destination ? [options, destination] : options };
}
