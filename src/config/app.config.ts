import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { registerAs } from '@nestjs/config';
import { emailLookProblem, normalizeEmail } from './email';

/**
 * Key used outside production when SECRET_KEY is not set, so that development sessions survive
 * restarts. It is public (it is in the source), which is why production refuses to start without
 * a real key.
 */
export const DEVELOPMENT_SECRET_KEY = 'development-only-secret-key-do-not-use-in-production';

/**
 * One core fewer than the machine has (at least one, at most four): a burst of logins then leaves a
 * core to the event loop, so every other request keeps its speed while passwords are hashed.
 */
export function defaultBcryptConcurrency(cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores - 1, 4));
}

/** A value that breaks its variable's rule; the message follows the variable's name. */
class InvalidValue extends Error {}

/** What a variable's default or rule may depend on besides its own text. */
interface EnvContext {
  production: boolean;
}

/** One environment variable: how the server reads it, and what the docs must say about it. */
export interface EnvVar<T> {
  /** What it sets, in one line; README.md's configuration table and .env.example say more. */
  description: string;
  /** The value when unset, as a .env file writes it; absent where it depends on NODE_ENV or the machine. */
  default?: string;
  /** The accepted values as .env.example writes them ("1 to 65535", "true | false"). */
  allowed?: string;
  /** Turns the text (undefined when unset or empty) into the value; throws InvalidValue on a bad one. */
  read(text: string | undefined, context: EnvContext): T;
}

const WHOLE_NUMBER = /^\d+$/;

function int({
  default: fallback,
  min,
  max,
  description,
}: {
  default: number | (() => number);
  min: number;
  max: number;
  description: string;
}): EnvVar<number> {
  return {
    description,
    default: typeof fallback === 'number' ? String(fallback) : undefined,
    allowed: `${min} to ${max}`,
    read(text) {
      if (text === undefined) return typeof fallback === 'number' ? fallback : fallback();
      const value = Number(text);
      if (!WHOLE_NUMBER.test(text) || value < min || value > max) {
        throw new InvalidValue(`must be a whole number between ${min} and ${max} (got "${text}")`);
      }
      return value;
    },
  };
}

function bool({
  default: fallback,
  description,
}: {
  default: boolean | ((context: EnvContext) => boolean);
  description: string;
}): EnvVar<boolean> {
  return {
    description,
    default: typeof fallback === 'boolean' ? String(fallback) : undefined,
    allowed: 'true | false',
    read(text, context) {
      if (text === undefined) return typeof fallback === 'boolean' ? fallback : fallback(context);
      if (text !== 'true' && text !== 'false') throw new InvalidValue(`must be true or false (got "${text}")`);
      return text === 'true';
    },
  };
}

function oneOf<const V extends string>({
  values,
  default: fallback,
  description,
}: {
  values: readonly V[];
  default: V;
  description: string;
}): EnvVar<V> {
  return {
    description,
    default: fallback,
    allowed: values.join(' | '),
    read(text) {
      if (text === undefined) return fallback;
      if (!values.includes(text as V)) throw new InvalidValue(`must be one of ${values.join(', ')} (got "${text}")`);
      return text as V;
    },
  };
}

const DEFAULT_DATABASE_URL = 'sqlite:///users.db';

function readOrigins(text: string | undefined): string[] {
  if (text === undefined) return [];
  if (text.length > 4000) throw new InvalidValue('must be at most 4000 characters long');
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const isOrigin = (raw: string): boolean => {
    try {
      const url = new URL(raw);
      return ['http:', 'https:'].includes(url.protocol) && url.origin === raw.replace(/\/$/, '');
    } catch {
      return false;
    }
  };
  const bad = items.filter((raw) => !isOrigin(raw));
  if (bad.length > 0) {
    throw new InvalidValue(
      `must be a comma-separated list of origins like https://app.example.com (got ${bad.map((raw) => `"${raw}"`).join(', ')})`,
    );
  }
  return items.map((raw) => new URL(raw).origin);
}

/**
 * Comma-separated emails, normalised as signup normalises them (config/email.ts), so that the list
 * matches the stored addresses; an address signup would refuse (look-alike characters) stops the start.
 */
function readEmails(text: string | undefined): string[] {
  if (text === undefined) return [];
  const items = text
    .split(',')
    .map((s) => normalizeEmail(s))
    .filter(Boolean);
  const bad = items.filter((email) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254);
  if (bad.length > 0)
    throw new InvalidValue(
      `must be a comma-separated list of email addresses (got ${bad.map((e) => `"${e}"`).join(', ')})`,
    );
  for (const email of items) {
    const problem = emailLookProblem(email);
    // Escaped, so that the invisible character the message is about can be seen.
    const shown = email.replace(/[^\x20-\x7e]/gu, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
    if (problem) throw new InvalidValue(`"${shown}": an email ${problem}`);
  }
  return [...new Set(items)];
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** true / false, a hop count, or addresses, subnets and proxy-addr's names ("loopback, 10.0.0.0/8"). */
function readTrustProxy(text: string | undefined): boolean | number | string {
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  if (WHOLE_NUMBER.test(text)) return Number(text);
  const items = text.split(',').map((s) => s.trim());
  const valid = items.every((item) => {
    if (PROXY_NAMES.has(item)) return true;
    const [address, prefix, ...rest] = item.split('/');
    const family = isIP(address);
    if (!family || rest.length > 0) return false;
    if (prefix === undefined) return true;
    return WHOLE_NUMBER.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  });
  if (!valid) {
    throw new InvalidValue(
      `must be true, false, a number of hops, or a comma-separated list of addresses, subnets, loopback, linklocal, uniquelocal (got "${text}")`,
    );
  }
  return items.join(', ');
}

const TEN_YEARS = 10 * 365 * 86400;

const DEFAULT_MAIL_FROM = 'Session server <no-reply@localhost>';
const DEFAULT_MAIL_OUTBOX_DIR = './mail-outbox';

/**
 * Every environment variable the server reads, each declared once: its rule, default and a line
 * of description. README.md's configuration table and .env.example are checked against this list
 * (env-docs.spec.ts). Messages that could show a secret (SECRET_KEY, a DATABASE_URL with a
 * password) do not repeat the value.
 */
export const ENV_VARS = {
  NODE_ENV: oneOf({
    values: ['development', 'production', 'test'],
    default: 'development',
    description: 'Mode; production requires SECRET_KEY and makes cookies Secure by default',
  }),
  PORT: int({ default: 5000, min: 1, max: 65535, description: 'TCP port to listen on, on every interface' }),
  DATABASE_URL: {
    description: 'SQLAlchemy-style database URL: sqlite:///file.db, sqlite:////abs/path.db or postgres://…',
    default: DEFAULT_DATABASE_URL,
    read(text: string | undefined): string {
      if (text === undefined) return DEFAULT_DATABASE_URL;
      if (!/^(sqlite:\/\/\/.+|postgres(ql)?:\/\/.+)$/.test(text)) {
        throw new InvalidValue(
          'must look like sqlite:///relative.db, sqlite:////absolute/path.db, sqlite:///:memory: or postgres://user@host/db',
        );
      }
      return text;
    },
  },
  SECRET_KEY: {
    description: 'Key of the HMAC that session tokens are stored as; 32+ characters, required in production',
    read(text: string | undefined, { production }: EnvContext): string {
      if (text === undefined) {
        if (production) throw new InvalidValue('is required when NODE_ENV=production');
        return DEVELOPMENT_SECRET_KEY;
      }
      if (text.length < 32) throw new InvalidValue('must be at least 32 characters long');
      return text;
    },
  },
  SESSION_TIMEOUT: int({
    default: 86400,
    min: 1,
    max: TEN_YEARS,
    description: 'Seconds from login to the fixed expires_at; activity never extends it',
  }),
  SESSION_IDLE_TIMEOUT: int({
    default: 0,
    min: 0,
    max: TEN_YEARS,
    description: 'Seconds without activity after which a session ends; 0 = off',
  }),
  SESSION_COOKIE_SECURE: bool({
    default: ({ production }) => production,
    description: 'Secure, __Host- session cookie and HSTS (served over HTTPS); default: on in production',
  }),
  ALLOWED_ORIGINS: {
    description: 'Comma-separated origins of trusted frontends: they pass the cross-site check and get CORS',
    default: '',
    read: readOrigins,
  },
  REMEMBER_ME_TIMEOUT: int({
    default: 30 * 86400,
    min: 1,
    max: TEN_YEARS,
    description: 'Seconds from login to expires_at for a login with remember_me: true (a persistent cookie)',
  }),
  REAUTH_MAX_AGE: int({
    default: 600,
    min: 1,
    max: 7 * 86400,
    description: 'Seconds after proving the password during which ending other sessions and admin actions are allowed',
  }),
  MAX_SESSIONS_PER_USER: int({
    default: 10,
    min: 1,
    max: 1000,
    description: "Cap on a user's active sessions; a login past it ends the least recently active",
  }),
  LOGIN_LIMIT_ACCOUNT_ADDRESS: int({
    default: 5,
    min: 1,
    max: 1_000_000,
    description: 'Failed logins per account from one client address, per window',
  }),
  LOGIN_LIMIT_ADDRESS: int({
    default: 20,
    min: 1,
    max: 1_000_000,
    description: 'Failed logins from one client address, all accounts together, per window',
  }),
  LOGIN_LIMIT_ACCOUNT: int({
    default: 100,
    min: 1,
    max: 1_000_000,
    description: 'Failed logins per account from all addresses together, per window',
  }),
  LOGIN_LIMIT_WINDOW: int({
    default: 900,
    min: 1,
    max: 7 * 86400,
    description: 'Seconds of the sliding window of the three login limits',
  }),
  AUTH_RATE_LIMIT: int({
    default: 60,
    min: 1,
    max: 1_000_000,
    description:
      'Requests per minute per client address to /login, /signup and the recovery routes (forgot_password, reset_password, verify_email, resend_verification) together',
  }),
  BCRYPT_ROUNDS: int({ default: 12, min: 4, max: 15, description: 'bcrypt cost factor for new password hashes' }),
  BCRYPT_MAX_PENDING: int({
    default: 16,
    min: 0,
    max: 10000,
    description: 'Password hashes that may wait for a hashing slot; more get 503',
  }),
  BCRYPT_CONCURRENCY: int({
    default: () => defaultBcryptConcurrency(),
    min: 1,
    max: 64,
    description: 'Password hashes computed at once (each takes a core)',
  }),
  PASSWORD_DENY_COMMON: bool({
    default: false,
    description: 'Refuse the most common passwords at signup and password change',
  }),
  TRUST_PROXY: {
    description: "Fastify's trustProxy (proxy-addr rules): which X-Forwarded-* headers to believe",
    default: 'false',
    read: readTrustProxy,
  },
  GEOIP: bool({
    default: false,
    description: "Look up each login's country in the offline database shipped with the server",
  }),
  ADMIN_EMAILS: {
    description: 'Comma-separated emails of the administrators (read at start; stored as users.is_admin)',
    default: '',
    read: readEmails,
  },
  IP_RETENTION_DAYS: int({
    default: 0,
    min: 0,
    max: 3650,
    description: 'Days after which ended sessions and sign-in attempts lose their IP address (country kept); 0 = keep',
  }),
  RETENTION_DAYS: int({
    default: 30,
    min: 1,
    max: 3650,
    description: 'Days ended sessions and login attempts are kept before the cleanup job deletes them',
  }),
  CLEANUP_INTERVAL_MINUTES: int({
    default: 10,
    min: 0,
    max: 1440,
    description: 'Minutes between two runs of the cleanup job; 0 = not scheduled on this instance',
  }),
  MIGRATIONS_RUN: bool({ default: true, description: 'Apply pending migrations when the server starts' }),
  DATABASE_POOL_SIZE: int({
    default: 10,
    min: 1,
    max: 1000,
    description: 'PostgreSQL connections this instance keeps at most (its pool); SQLite has one',
  }),
  DATABASE_REPLICA_URL: {
    description: 'A PostgreSQL read replica for reads that may lag (lists, chat history); empty = none',
    default: '',
    read(text: string | undefined): string | null {
      if (text === undefined) return null;
      if (!/^postgres(ql)?:\/\/.+$/.test(text)) throw new InvalidValue('must be a postgres:// URL');
      return text;
    },
  },
  DATABASE_TIMEOUT_MS: int({
    default: 5000,
    min: 100,
    max: 600_000,
    description: 'Longest wait for a PostgreSQL connection or statement; past it the request gets 503',
  }),
  REDIS_URL: {
    description: 'Redis shared by every instance for the login throttle and rate limits; empty = in memory',
    default: '',
    read(text: string | undefined): string | null {
      if (text === undefined) return null;
      if (!/^rediss?:\/\/.+$/.test(text)) throw new InvalidValue('must be a redis:// or rediss:// URL');
      return text;
    },
  },
  SHUTDOWN_TIMEOUT_MS: int({
    default: 10_000,
    min: 0,
    max: 600_000,
    description: 'On SIGTERM, how long requests in flight may take to finish before the server exits',
  }),
  CHAT_RATE_LIMIT: int({
    default: 30,
    min: 1,
    max: 1_000_000,
    description: 'Messages one session may send per window, POST /chats and POST /global_chat together',
  }),
  CHAT_RATE_WINDOW: int({
    default: 60,
    min: 1,
    max: 86400,
    description: 'Seconds of the chat send window; past the limit a session waits one window (429)',
  }),
  MAIL_URL: {
    description: 'SMTP server mail is sent through (smtp:// or smtps://, user:password@ if it asks); empty = none',
    default: '',
    read(text: string | undefined): string | null {
      if (text === undefined) return null;
      if (!/^smtps?:\/\/[^/?#\s]+/.test(text)) throw new InvalidValue('must be an smtp:// or smtps:// URL');
      return text;
    },
  },
  MAIL_FROM: {
    description: 'The From of every mail, an address or "Name <address>"',
    default: DEFAULT_MAIL_FROM,
    read(text: string | undefined): string {
      if (text === undefined) return DEFAULT_MAIL_FROM;
      if (text.length > 300 || /[\r\n]/.test(text) || !/[^\s@<>]+@[^\s@<>]+/.test(text)) {
        throw new InvalidValue(`must be an address or "Name <address>" (got "${text}")`);
      }
      return text;
    },
  },
  PUBLIC_URL: {
    description: "The server's address as users reach it (an origin, no path): links in mail start with it",
    read(text: string | undefined): string | null {
      if (text === undefined) return null;
      let url: URL | null = null;
      try {
        url = new URL(text);
      } catch {
        // Reported below.
      }
      if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== text.replace(/\/$/, '')) {
        throw new InvalidValue(
          `must be an http(s) origin without a path, like https://sessions.example.com (got "${text}")`,
        );
      }
      return url.origin;
    },
  },
  MAIL_OUTBOX_DIR: {
    description:
      'Without MAIL_URL outside production: the folder each mail is written to as an .eml file (and its text as .txt)',
    default: DEFAULT_MAIL_OUTBOX_DIR,
    read(text: string | undefined): string {
      return text ?? DEFAULT_MAIL_OUTBOX_DIR;
    },
  },
  PASSWORD_RESET_TIMEOUT: int({
    default: 1800,
    min: 60,
    max: 7 * 86400,
    description: 'Seconds a password-reset link stays valid (single use; a newer one makes older ones invalid)',
  }),
  EMAIL_VERIFICATION_TIMEOUT: int({
    default: 3 * 86400,
    min: 60,
    max: 30 * 86400,
    description: 'Seconds an e-mail verification or e-mail change link stays valid (single use)',
  }),
  REQUIRE_VERIFIED_EMAIL: bool({
    default: false,
    description: 'Refuse sign-in (403 email_not_verified) until the account has verified its e-mail address',
  }),
  NOTIFY_NEW_DEVICE: bool({
    default: true,
    description: 'Mail the account when it signs in from a new device (browser, system or country)',
  }),
  METRICS_PORT: int({
    default: 0,
    min: 0,
    max: 65535,
    description: 'Port of a second listener that serves only GET /metrics (Prometheus); 0 = none',
  }),
  METRICS_TOKEN: {
    description: 'Bearer token that GET /metrics on the main port requires; empty = /metrics not served there',
    default: '',
    read(text: string | undefined): string | null {
      if (text === undefined) return null;
      if (text.length < 16) throw new InvalidValue('must be at least 16 characters long');
      return text;
    },
  },
  WEBHOOK_URLS: {
    description: 'Comma-separated http(s) URLs that session and account events are POSTed to; empty = none',
    default: '',
    read(text: string | undefined): string[] {
      if (text === undefined) return [];
      const urls = text
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      for (const url of urls) {
        let parsed: URL | null = null;
        try {
          parsed = new URL(url);
        } catch {
          // Reported below.
        }
        if (!parsed || !['http:', 'https:'].includes(parsed.protocol))
          throw new InvalidValue(`must be comma-separated http(s) URLs (got "${url}")`);
      }
      return urls;
    },
  },
  WEBHOOK_SECRET: {
    description: 'The Standard Webhooks signing secret (whsec_ followed by base64); required with WEBHOOK_URLS',
    read(text: string | undefined): string | null {
      if (text === undefined) return null;
      const key = text.startsWith('whsec_') ? text.slice(6) : '';
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length < 24)
        throw new InvalidValue('must be whsec_ followed by at least 24 bytes in base64');
      return text;
    },
  },
  LOG_LEVEL: oneOf({
    values: ['error', 'warn', 'log', 'debug', 'verbose'],
    default: 'log',
    description: 'Log verbosity',
  }),
} satisfies Record<string, EnvVar<unknown>>;

type EnvValues = { [Name in keyof typeof ENV_VARS]: ReturnType<(typeof ENV_VARS)[Name]['read']> };

/** The settings, each read from the variable named beside it in `parseEnv` (described in ENV_VARS). */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  databaseUrl: string;
  secretKey: string;
  /** True when SECRET_KEY was not set and the public development key is in use. */
  usingDevelopmentSecret: boolean;
  sessionTimeout: number;
  sessionIdleTimeout: number;
  cookieSecure: boolean;
  allowedOrigins: string[];
  maxSessionsPerUser: number;
  rememberMeTimeout: number;
  reauthMaxAge: number;
  geoip: boolean;
  /** Normalised as signup normalises (config/email.ts); their users get is_admin at start. */
  adminEmails: string[];
  ipRetentionDays: number;
  bcryptRounds: number;
  bcryptMaxPending: number;
  bcryptConcurrency: number;
  trustProxy: boolean | number | string;
  migrationsRun: boolean;
  databasePoolSize: number;
  /** A PostgreSQL read replica's URL, or null. */
  databaseReplicaUrl: string | null;
  databaseTimeoutMs: number;
  /** Redis for state shared by instances, or null (in memory, per instance). */
  redisUrl: string | null;
  shutdownTimeoutMs: number;
  loginLimits: { accountAddress: number; address: number; account: number; windowSeconds: number };
  passwordDenyCommon: boolean;
  authRateLimit: number;
  /** Per session, both chat send routes together. */
  chatRateLimit: { messages: number; windowSeconds: number };
  retentionDays: number;
  cleanupIntervalMinutes: number;
  /**
   * Mail (src/mail): the SMTP URL or null; without one, outside production mail goes to the log and
   * `outboxDir`, in production nowhere (the mail routes answer 503).
   */
  mail: { url: string | null; from: string; outboxDir: string };
  /** Where links in mail point: PUBLIC_URL, else http://localhost:PORT. Never a request's Host. */
  publicUrl: string;
  /** Seconds a password-reset link is valid. */
  passwordResetTimeout: number;
  /** Seconds an e-mail verification (or e-mail change) link is valid. */
  emailVerificationTimeout: number;
  /** Login refused (403 email_not_verified) until the address is verified. */
  requireVerifiedEmail: boolean;
  /** A sign-in marked new_device mails the account. */
  notifyNewDevice: boolean;
  /** GET /metrics: on a listener of its own (port, 0 = none) and/or on the main port behind a bearer token (null = not there). */
  metrics: { port: number; token: string | null };
  /** Where session and account events are POSTed (Standard Webhooks), and the signing secret; none when `urls` is empty. */
  webhooks: { urls: string[]; secret: string | null };
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment and returns typed settings. Throws a ConfigError naming every bad
 * variable, so a misconfigured server stops at start instead of misbehaving later.
 */
export function parseEnv(rawEnv: Record<string, string | undefined>): AppConfig {
  // An empty value (PORT= in a .env file) means "not set": the default applies.
  const textOf = (name: string): string | undefined => (rawEnv[name] === '' ? undefined : rawEnv[name]);
  const context: EnvContext = { production: textOf('NODE_ENV') === 'production' };
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries<EnvVar<unknown>>(ENV_VARS)) {
    try {
      values[name] = variable.read(textOf(name), context);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      problems.push(`${name} ${error.message}`);
    }
  }
  // Mail sent from production must link to where users reach the server, not to localhost.
  if (context.production && textOf('MAIL_URL') !== undefined && textOf('PUBLIC_URL') === undefined) {
    problems.push('PUBLIC_URL is required when NODE_ENV=production and MAIL_URL is set (links in mail start with it)');
  }
  if (textOf('WEBHOOK_URLS') !== undefined && textOf('WEBHOOK_SECRET') === undefined) {
    problems.push('WEBHOOK_SECRET is required when WEBHOOK_URLS is set (every event is signed with it)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const env = values as EnvValues;

  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    secretKey: env.SECRET_KEY,
    usingDevelopmentSecret: textOf('SECRET_KEY') === undefined,
    sessionTimeout: env.SESSION_TIMEOUT,
    sessionIdleTimeout: env.SESSION_IDLE_TIMEOUT,
    cookieSecure: env.SESSION_COOKIE_SECURE,
    allowedOrigins: env.ALLOWED_ORIGINS,
    maxSessionsPerUser: env.MAX_SESSIONS_PER_USER,
    rememberMeTimeout: env.REMEMBER_ME_TIMEOUT,
    reauthMaxAge: env.REAUTH_MAX_AGE,
    geoip: env.GEOIP,
    adminEmails: env.ADMIN_EMAILS,
    ipRetentionDays: env.IP_RETENTION_DAYS,
    bcryptRounds: env.BCRYPT_ROUNDS,
    bcryptMaxPending: env.BCRYPT_MAX_PENDING,
    bcryptConcurrency: env.BCRYPT_CONCURRENCY,
    trustProxy: env.TRUST_PROXY,
    migrationsRun: env.MIGRATIONS_RUN,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    databaseReplicaUrl: env.DATABASE_REPLICA_URL,
    databaseTimeoutMs: env.DATABASE_TIMEOUT_MS,
    redisUrl: env.REDIS_URL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    loginLimits: {
      accountAddress: env.LOGIN_LIMIT_ACCOUNT_ADDRESS,
      address: env.LOGIN_LIMIT_ADDRESS,
      account: env.LOGIN_LIMIT_ACCOUNT,
      windowSeconds: env.LOGIN_LIMIT_WINDOW,
    },
    passwordDenyCommon: env.PASSWORD_DENY_COMMON,
    authRateLimit: env.AUTH_RATE_LIMIT,
    chatRateLimit: { messages: env.CHAT_RATE_LIMIT, windowSeconds: env.CHAT_RATE_WINDOW },
    retentionDays: env.RETENTION_DAYS,
    cleanupIntervalMinutes: env.CLEANUP_INTERVAL_MINUTES,
    mail: { url: env.MAIL_URL, from: env.MAIL_FROM, outboxDir: env.MAIL_OUTBOX_DIR },
    publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
    passwordResetTimeout: env.PASSWORD_RESET_TIMEOUT,
    emailVerificationTimeout: env.EMAIL_VERIFICATION_TIMEOUT,
    requireVerifiedEmail: env.REQUIRE_VERIFIED_EMAIL,
    notifyNewDevice: env.NOTIFY_NEW_DEVICE,
    metrics: { port: env.METRICS_PORT, token: env.METRICS_TOKEN },
    webhooks: { urls: env.WEBHOOK_URLS, secret: env.WEBHOOK_SECRET },
    logLevel: env.LOG_LEVEL,
  };
}

/** The validated settings, injected with `@Inject(appConfig.KEY)`. */
export const appConfig = registerAs('app', (): AppConfig => parseEnv(process.env));
