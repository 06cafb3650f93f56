import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Injectable, type LoggerService, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';
import {
  pino,
  stdSerializers,
  stdTimeFunctions,
  type DestinationStream,
  type LevelWithSilent,
  type Logger,
  type SerializedRequest,
  type SerializedResponse,
} from 'pino';
import type { AppConfig } from '../config/app.config';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Where log lines go; `null` means standard output. Tests provide a stream to capture them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** The process's pino logger (processLogger), for the request hooks. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

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
 * log. Bodies are never logged (the request serializer leaves them out), so passwords cannot reach
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
  req: ({ id, method, url, headers, remoteAddress }: SerializedRequest) => ({
    id,
    method,
    url: url.split('?')[0],
    headers,
    remoteAddress,
  }),
  res: ({ statusCode, headers }: SerializedResponse) => ({
    statusCode,
    headers: Object.fromEntries(
      Object.entries(headers ?? {}).filter(([name]) => LOGGED_RESPONSE_HEADERS.includes(name)),
    ),
  }),
};

/** The process's logger (see processLogger). */
let shared: Logger | undefined;

/**
 * The one pino logger of the process: JSON lines with an ISO time and the level's name. nestjs-pino
 * keeps the first logger it is given for the whole process, so this is made once, with the first
 * destination (standard output unless a test hands in a stream); each app sets its level. Under
 * NODE_ENV=test the logs are silent unless a test captures them. A person reading a terminal in
 * development gets the same lines made readable (see readableLogs).
 */
export function processLogger(config: AppConfig, destination: DestinationStream | null): Logger {
  destination ??= readableLogs(config.nodeEnv, process.stdout) ? readableDestination(process.stdout) : null;
  shared ??= pino(
    {
      serializers: {
        req: stdSerializers.wrapRequestSerializer(serializers.req),
        res: stdSerializers.wrapResponseSerializer(serializers.res),
        err: stdSerializers.err,
      },
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
    },
    destination ?? undefined,
  );
  shared.level = config.nodeEnv === 'test' && !destination ? 'silent' : PINO_LEVELS[config.logLevel];
  return shared;
}

/**
 * nestjs-pino settings: Nest's logger and PinoLogger write through the process logger, and within a
 * request through that request's logger (see startRequestLog and RequestLogContext), so each line
 * carries the request's id. `forRoutes: []`: nestjs-pino's own middleware, which does only that
 * binding, is not mounted. It was the app's one Nest middleware, and on Fastify a Nest middleware
 * brings @fastify/middie and Nest's middleware proxy onto every request: about 20 µs of CPU a
 * request of the ~90 a `GET /health/live` cost (docs/PERFORMANCE.md, "Where a request's time goes").
 */
export function loggerParams(logger: Logger): Params {
  return { pinoHttp: { logger }, useExisting: true, forRoutes: [] };
}

/**
 * Binds each request's logger (`req.log`, see startRequestLog) as nestjs-pino's context for the
 * rest of the request, as its middleware did: what Nest's Logger and PinoLogger write while the
 * request runs carries its `reqId`. A plain Fastify `onRequest` hook, added at module init, so it
 * runs where middie's hook ran: after the hooks configureApp adds (which set `req.log`), before
 * routing's later stages and the handler.
 */
@Injectable()
export class RequestLogContext implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (req, _reply, done) => storage.run(new Store(req.log as Logger), done));
  }
}

/**
 * Request logging on Fastify's hooks: each request's logger (`request.log`, which nestjs-pino's
 * middleware makes the context of everything logged while the request runs) is a child tagged
 * with its id (`reqId`); when the response has gone, one `request completed` line (`request
 * errored`, at level error, for a 5xx) with the request (path, headers redacted), the status, the
 * headers that say what happened and the time. This replaces pino-http, which serialised and
 * redacted every request's headers into a child logger up front, even when no line was to be
 * written: about a third of a small request's CPU (docs/PERFORMANCE.md). Here that record is built
 * only when the line is written. Requests refused before routing (cross-site 403, 413, 415) are
 * logged too.
 */
export function startRequestLog(logger: Logger, req: FastifyRequest): void {
  req.log = logger.child({ reqId: req.id });
}

export function endRequestLog(logger: Logger, req: FastifyRequest, reply: FastifyReply): void {
  const failed = reply.statusCode >= 500;
  const level = failed ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  (req.log as Logger)[level](
    { req: req.raw, res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
    failed ? 'request errored' : 'request completed',
  );
}

/**
 * Nest's own start-up lines (a line per module and per route, ~60 at `log`) written at `debug`
 * instead: LOG_LEVEL=debug still shows them; otherwise the start-up line (main.ts) says what
 * matters, the address, the database and the migrations.
 */
const FRAMEWORK_CHATTER = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's logger for the app (main.ts, and the tests that capture logs): nestjs-pino's, with the chatter above at debug. */
export class AppLogger implements LoggerService {
  constructor(
    private readonly pinoLogger: LoggerService & Required<Pick<LoggerService, 'debug' | 'verbose' | 'fatal'>>,
  ) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params.at(-1);
    if (typeof context === 'string' && FRAMEWORK_CHATTER.has(context)) this.pinoLogger.debug(message, ...params);
    else this.pinoLogger.log(message, ...params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.pinoLogger.error(message, ...params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.pinoLogger.warn(message, ...params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.pinoLogger.debug(message, ...params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.pinoLogger.verbose(message, ...params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.pinoLogger.fatal(message, ...params);
  }
}

/**
 * Readable lines instead of JSON: in development, when standard output is a terminal, i.e. a
 * person is reading it. Output that goes to a pipe or a file stays JSON lines even in development
 * (`npm start | jq`, a container without NODE_ENV=production feeding a log collector), and
 * production is always JSON. A small formatter of our own rather than pino-pretty: one more
 * dependency (with its own worker-thread transport) for a few dozen lines was not worth it.
 */
export function readableLogs(nodeEnv: AppConfig['nodeEnv'], stdout: { isTTY?: boolean }): boolean {
  return nodeEnv === 'development' && stdout.isTTY === true;
}

// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** ANSI colours by level (0: the terminal's own). */
const LEVEL_COLORS: Record<string, number> = { trace: 90, debug: 90, info: 32, warn: 33, error: 31, fatal: 31 };
/** The fields a readable line shows in its own place, or not at all (the same on every line). */
const PLACED = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'msg',
  'context',
  'reqId',
  'req',
  'res',
  'responseTime',
  'err',
]);

/** A field as text: a string as it is, anything else as JSON. */
const text = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));

/**
 * One JSON log line as a person reads it: the time (UTC), the level, the context, the message and
 * the other fields as `key=value`; a request's line as `GET /path → 200 (3 ms)`; an error's stack
 * below it. The request id last, dimmed. Anything that is not a JSON object is passed through.
 */
export function readableLine(line: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  // Control characters (an escape sequence in a header a client sent) are shown, not obeyed.
  const paint = (code: number, text: string) => {
    const safe = text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return color && code ? `\x1b[${code}m${safe}\x1b[0m` : safe;
  };
  const level = String(entry.level);
  const parts = [
    paint(90, text(entry.time).slice(11, 23)),
    paint(LEVEL_COLORS[level] ?? 0, level.toUpperCase().padEnd(5)),
  ];
  if (entry.context) parts.push(paint(36, `[${text(entry.context)}]`));
  const req = entry.req as { method?: string; url?: string } | undefined;
  const res = entry.res as { statusCode?: number } | undefined;
  if (req && res)
    parts.push(paint(0, `${req.method} ${req.url} → ${res.statusCode} (${String(entry.responseTime)} ms)`));
  else if (entry.msg !== undefined) parts.push(paint(0, text(entry.msg)));
  // A field the message already says (an event named by its message, the start-up line's fields) is not repeated.
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  const saidText = (value: unknown) =>
    typeof value === 'string' && (value === message || (value.length >= 8 && message.includes(value)));
  const said = (value: unknown) => saidText(value) || (Array.isArray(value) && value.every(saidText));
  for (const [key, value] of Object.entries(entry)) {
    if (PLACED.has(key) || value === undefined || said(value)) continue;
    const shown = typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
    parts.push(`${paint(90, `${key}=`)}${paint(0, shown)}`);
  }
  if (entry.reqId) parts.push(paint(90, `reqId=${text(entry.reqId)}`));
  const err = entry.err as { stack?: string; message?: string } | undefined;
  const stack = err ? `\n    ${paint(0, err.stack ?? err.message ?? '').replace(/\n/g, '\n    ')}` : '';
  return `${parts.join(' ')}${stack}\n`;
}

/** A pino destination writing readable lines to a terminal, in colour unless NO_COLOR is set. */
function readableDestination(out: NodeJS.WriteStream): DestinationStream {
  const color = !process.env.NO_COLOR;
  return { write: (line: string) => void out.write(readableLine(line, color)) };
}
