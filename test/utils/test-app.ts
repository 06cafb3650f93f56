import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleLogger, Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { App } from 'supertest/types';
import request from 'supertest';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger as PinoRoot } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter } from '../../src/app.setup';
import type { RouteTraits } from '../../src/common/access/route-traits';
import { Clock } from '../../src/common/clock';
import { AppLogger, LOG_DESTINATION, PINO_LEVELS, ROOT_LOGGER } from '../../src/common/logging';
import { appConfig, parseEnv, type AppConfig } from '../../src/config/app.config';
import { DEFAULT_REDIS_KEY_PREFIX, REDIS_KEY_PREFIX } from '../../src/redis/redis.service';
import { FakeClock } from './fake-clock';
import { createScratchDatabase, ON_POSTGRES, TEST_POSTGRES_URL, type ScratchDatabase } from './postgres';

export const TEST_SECRET = 'test-secret-key-that-is-long-enough-0123456789';

export interface TestApp {
  app: NestFastifyApplication;
  http: App;
  clock: FakeClock;
  config: AppConfig;
  dataSource: DataSource;
  /** Every log line the app wrote, as JSON text (with `captureLogs`; otherwise always empty). */
  logs: string[];
  /** Every route Fastify registered, one per method (`GET /chats/:user_id`), as its onRoute hook saw them. */
  routes: string[];
  /**
   * The config of each of those routes (`GET /chats/:user_id` → its RouteTraits), as the request
   * hooks read it, read after every onRoute hook has run (the OpenAPI setup adds its own).
   */
  routeConfig(label: string): RouteTraits | undefined;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Collect the app's log lines in `logs` (as main.ts sets it up) instead of keeping it silent. */
  captureLogs?: boolean;
  /** What the app's Redis keys start with (with REDIS_URL), so a spec's keys stay apart from others'. */
  redisKeyPrefix?: string;
}

/**
 * Where every test app's log lines go. nestjs-pino builds its pino logger once per test file and
 * keeps the first destination it is given, so all apps get this one sink, which hands the lines
 * to the app that captures them (if any).
 */
let captured: string[] | null = null;
/** Apps made so far by this test file's process (each gets a mail folder of its own). */
let appCount = 0;
const logSink = {
  write(line: string): void {
    captured?.push(line);
  },
};

/**
 * The production app (same module, same setup) on a fresh database — in-memory SQLite, or under
 * `npm run test:pg` a PostgreSQL database of its own, dropped on close — with a clock the test
 * controls. Extra settings are given as environment variables, as an operator would; a spec that
 * names its own DATABASE_URL gets that one.
 */
export async function createTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  let database: ScratchDatabase | undefined;
  if (ON_POSTGRES && !env.DATABASE_URL)
    database = await createScratchDatabase(TEST_POSTGRES_URL!, process.env.TEST_PG_RUN!, process.env.TEST_PG_TEMPLATE);
  const mailFolder = join(tmpdir(), `session-server-mail-${process.pid}-${++appCount}`);
  const config = parseEnv({
    NODE_ENV: 'test',
    DATABASE_URL: database?.url ?? 'sqlite:///:memory:',
    // The template is migrated already.
    ...(database ? { MIGRATIONS_RUN: 'false' } : {}),
    SECRET_KEY: TEST_SECRET,
    BCRYPT_ROUNDS: '4',
    // Specs play many clients from one loopback address; the rate limit has its own spec.
    AUTH_RATE_LIMIT: '100000',
    // Likewise chat specs send many messages from one session; the send limit has its own spec.
    CHAT_RATE_LIMIT: '100000',
    // No MAIL_URL: a mail a spec causes is written here (a folder of its own, made only if written
    // to), never into the working directory; test/mail-outbox.e2e-spec.ts gives a real SMTP server.
    MAIL_OUTBOX_DIR: mailFolder,
    ...env,
  });
  const clock = new FakeClock();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(appConfig.KEY)
    .useValue(config)
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(LOG_DESTINATION)
    .useValue(logSink)
    .overrideProvider(REDIS_KEY_PREFIX)
    .useValue(options.redisKeyPrefix ?? DEFAULT_REDIS_KEY_PREFIX)
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(config), {
    bodyParser: false,
    logger: ['error'],
  });
  // Routes are registered from here on (the plugins in configureApp, the controllers at init).
  const routes: string[] = [];
  const routeOptions = new Map<string, { config?: unknown }>();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        routes.push(`${method} ${route.url}`);
        routeOptions.set(`${method} ${route.url}`, route);
      }
    });
  const logs: string[] = [];
  if (options.captureLogs) {
    captured = logs;
    app.useLogger(new AppLogger(app.get(PinoNestLogger)));
  }
  await configureApp(app);
  await app.init();
  // Fastify finishes loading its plugins (cookies, CORS, static files) before it takes a request.
  await app.getHttpAdapter().getInstance().ready();
  // The logger is shared by the file's apps (see logSink): set its level for this one.
  app.get<PinoRoot>(ROOT_LOGGER).level = options.captureLogs ? PINO_LEVELS[config.logLevel] : 'silent';
  return {
    app,
    http: app.getHttpServer() as App,
    clock,
    config,
    dataSource: app.get(DataSource),
    logs,
    routes,
    routeConfig: (label) => routeOptions.get(label)?.config as RouteTraits | undefined,
    close: async () => {
      await app.close();
      await database?.drop();
      // The notices of sign-ins and password changes land here in every spec.
      await rm(mailFolder, { recursive: true, force: true });
      if (!options.captureLogs) return;
      captured = null;
      Logger.overrideLogger(new ConsoleLogger({ logLevels: ['error'] }));
    },
  };
}

export interface TestUser {
  id: number;
  name: string;
  email: string;
  phone: string;
  password: string;
}

let counter = 0;

/** Signs up a user through the API and returns it with its password. */
export async function signup(http: App, overrides: Partial<Omit<TestUser, 'id'>> = {}): Promise<TestUser> {
  counter++;
  const data = {
    name: `User ${counter}`,
    phone: '+1 555 0100',
    email: `user${counter}-${Date.now()}@example.com`,
    password: 'correct horse battery',
    ...overrides,
  };
  const res = await request(http).post('/signup').send(data).expect(201);
  return { ...data, id: res.body.user.id };
}

export interface LoggedIn {
  token: string;
  /** A Cookie header value carrying the session token. */
  cookie: string;
  body: { user: Record<string, unknown>; session: Record<string, unknown> & { id: number } };
  setCookie: string;
}

/** Logs in through the API (optionally as a given user agent) and returns the token and cookie. */
export async function login(
  http: App,
  user: Pick<TestUser, 'email' | 'password'>,
  userAgent = 'jest-device',
): Promise<LoggedIn> {
  const res = await request(http)
    .post('/login')
    .set('User-Agent', userAgent)
    .send({ email: user.email, password: user.password })
    .expect(200);
  const setCookie = sessionSetCookie(res.headers['set-cookie']);
  const token = /^session_token=([^;]*)/.exec(setCookie)?.[1];
  if (!token) throw new Error(`login set no session cookie: ${setCookie}`);
  return { token, cookie: `session_token=${token}`, body: res.body, setCookie };
}

/** The Set-Cookie line for the session cookie, from a response's headers. */
export function sessionSetCookie(header: string | string[] | undefined): string {
  const lines = Array.isArray(header) ? header : header ? [header] : [];
  return lines.find((line) => /^(__Host-)?session_token=/.test(line)) ?? '';
}
