import { availableParallelism } from 'node:os';
import { registerAs } from '@nestjs/config';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, validateSync } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { isIP } from 'node:net';

/**
 * Key used outside production when SECRET_KEY is not set, so that development sessions survive
 * restarts. It is public (it is in the source), which is why production refuses to start without
 * a real key.
 */
export const DEVELOPMENT_SECRET_KEY = 'development-only-secret-key-do-not-use-in-production';

const BOOLEAN = /^(true|false)$/;
const INTEGER = /^\d+$/;

/**
 * The environment as the server reads it. Every variable is a string in the environment, so each
 * rule is written against the text; `parseEnv` turns the checked text into typed values.
 */
class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @Matches(INTEGER, { message: 'PORT must be an integer between 1 and 65535' })
  PORT?: string;

  @IsOptional()
  @Matches(/^(sqlite:\/\/\/.+|postgres(ql)?:\/\/.+)$/, {
    message:
      'DATABASE_URL must look like sqlite:///relative.db, sqlite:////absolute/path.db, sqlite:///:memory: or postgres://user@host/db',
  })
  DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'SECRET_KEY must be at least 32 characters long' })
  SECRET_KEY?: string;

  @IsOptional()
  @Matches(INTEGER, { message: 'SESSION_TIMEOUT must be a whole number of seconds' })
  SESSION_TIMEOUT?: string;

  @IsOptional()
  @Matches(INTEGER, { message: 'SESSION_IDLE_TIMEOUT must be a whole number of seconds (0 = off)' })
  SESSION_IDLE_TIMEOUT?: string;

  @IsOptional()
  @Matches(BOOLEAN, { message: 'SESSION_COOKIE_SECURE must be true or false' })
  SESSION_COOKIE_SECURE?: string;

  @IsOptional()
  @IsString()
  @MaxLength(4000)
  ALLOWED_ORIGINS?: string;

  @IsOptional()
  @Matches(INTEGER, { message: 'MAX_SESSIONS_PER_USER must be a whole number' })
  MAX_SESSIONS_PER_USER?: string;

  @IsOptional()
  @Matches(INTEGER, { message: 'BCRYPT_ROUNDS must be a whole number between 4 and 15' })
  BCRYPT_ROUNDS?: string;

  @IsOptional()
  @Matches(INTEGER, { message: 'BCRYPT_MAX_PENDING must be a whole number' })
  BCRYPT_MAX_PENDING?: string;

  @IsOptional()
  @Matches(INTEGER, { message: 'BCRYPT_CONCURRENCY must be a whole number' })
  BCRYPT_CONCURRENCY?: string;

  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  @IsOptional()
  @Matches(BOOLEAN, { message: 'PASSWORD_DENY_COMMON must be true or false' })
  PASSWORD_DENY_COMMON?: string;

  @IsOptional()
  @Matches(BOOLEAN, { message: 'MIGRATIONS_RUN must be true or false' })
  MIGRATIONS_RUN?: string;

  @IsOptional()
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL?: string;
}

export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  databaseUrl: string;
  secretKey: string;
  /** True when SECRET_KEY was not set and the public development key is in use. */
  usingDevelopmentSecret: boolean;
  /** Seconds from login to the fixed `expires_at`. */
  sessionTimeout: number;
  /** Seconds without activity after which a session ends; 0 = off. */
  sessionIdleTimeout: number;
  cookieSecure: boolean;
  allowedOrigins: string[];
  maxSessionsPerUser: number;
  bcryptRounds: number;
  /** Password hashes allowed to wait for a worker; more concurrent logins get 503. */
  bcryptMaxPending: number;
  /** Password hashes computed at once (each takes a core for its duration). */
  bcryptConcurrency: number;
  /** Fastify's `trustProxy` (proxy-addr, as Express's `trust proxy`). */
  trustProxy: boolean | number | string;
  migrationsRun: boolean;
  /** Failed logins allowed per window: one account from one address, one address, one account. */
  loginLimits: { accountAddress: number; address: number; account: number; windowSeconds: number };
  /** Refuse the most common passwords at signup and password change (off: the contract's rule only). */
  passwordDenyCommon: boolean;
  /** Requests per minute per client address on /login and /signup (a coarse flood limit). */
  authRateLimit: number;
  /** Days that ended sessions and login attempts are kept before the cleanup job deletes them. */
  retentionDays: number;
  /** Minutes between two runs of the cleanup job; 0 = not scheduled on this instance. */
  cleanupIntervalMinutes: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

function intIn(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number between ${min} and ${max} (got "${text}")`);
    return fallback;
  }
  return value;
}

function parseOrigins(text: string | undefined, problems: string[]): string[] {
  if (!text) return [];
  const origins: string[] = [];
  for (const raw of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      const url = new URL(raw);
      if (!['http:', 'https:'].includes(url.protocol) || url.origin !== raw.replace(/\/$/, '')) throw new Error();
      origins.push(url.origin);
    } catch {
      problems.push(
        `ALLOWED_ORIGINS must be a comma-separated list of origins like https://app.example.com (got "${raw}")`,
      );
    }
  }
  return origins;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** true / false, a hop count, or addresses, subnets and proxy-addr's names ("loopback, 10.0.0.0/8"). */
function parseTrustProxy(text: string | undefined, problems: string[]): boolean | number | string {
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  if (INTEGER.test(text)) return Number(text);
  const items = text.split(',').map((s) => s.trim());
  const valid = items.every((item) => {
    if (PROXY_NAMES.has(item)) return true;
    const [address, prefix, ...rest] = item.split('/');
    const family = isIP(address);
    if (!family || rest.length > 0) return false;
    if (prefix === undefined) return true;
    return INTEGER.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  });
  if (!valid) {
    problems.push(
      `TRUST_PROXY must be true, false, a number of hops, or a comma-separated list of addresses, subnets, loopback, linklocal, uniquelocal (got "${text}")`,
    );
    return false;
  }
  return items.join(', ');
}

/**
 * Validates the environment and returns typed settings. Throws a ConfigError naming every bad
 * variable, so a misconfigured server stops at start instead of misbehaving later.
 */
/**
 * One core fewer than the machine has (at least one, at most four): a burst of logins then leaves a
 * core to the event loop, so every other request keeps its speed while passwords are hashed.
 */
export function defaultBcryptConcurrency(cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores - 1, 4));
}

export function parseEnv(rawEnv: Record<string, string | undefined>): AppConfig {
  // An empty value (PORT= in a .env file) means "not set": the default applies.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== '')) as Record<
    string,
    string | undefined
  >;
  const vars = plainToInstance(EnvironmentVariables, env, { excludeExtraneousValues: false });
  const problems = validateSync(vars, { skipMissingProperties: false, forbidUnknownValues: false }).flatMap((e) =>
    Object.values(e.constraints ?? {}),
  );
  if (problems.length > 0) throw new ConfigError(problems);

  const nodeEnv = (env.NODE_ENV ?? 'development') as AppConfig['nodeEnv'];
  const production = nodeEnv === 'production';
  if (production && !env.SECRET_KEY) problems.push('SECRET_KEY is required when NODE_ENV=production');

  const config: AppConfig = {
    nodeEnv,
    port: intIn('PORT', env.PORT, 5000, 1, 65535, problems),
    databaseUrl: env.DATABASE_URL || 'sqlite:///users.db',
    secretKey: env.SECRET_KEY || DEVELOPMENT_SECRET_KEY,
    usingDevelopmentSecret: !env.SECRET_KEY,
    sessionTimeout: intIn('SESSION_TIMEOUT', env.SESSION_TIMEOUT, 86400, 1, 10 * 365 * 86400, problems),
    sessionIdleTimeout: intIn('SESSION_IDLE_TIMEOUT', env.SESSION_IDLE_TIMEOUT, 0, 0, 10 * 365 * 86400, problems),
    cookieSecure: env.SESSION_COOKIE_SECURE ? env.SESSION_COOKIE_SECURE === 'true' : production,
    allowedOrigins: parseOrigins(env.ALLOWED_ORIGINS, problems),
    maxSessionsPerUser: intIn('MAX_SESSIONS_PER_USER', env.MAX_SESSIONS_PER_USER, 10, 1, 1000, problems),
    bcryptRounds: intIn('BCRYPT_ROUNDS', env.BCRYPT_ROUNDS, 12, 4, 15, problems),
    bcryptMaxPending: intIn('BCRYPT_MAX_PENDING', env.BCRYPT_MAX_PENDING, 16, 0, 10000, problems),
    bcryptConcurrency: intIn('BCRYPT_CONCURRENCY', env.BCRYPT_CONCURRENCY, defaultBcryptConcurrency(), 1, 64, problems),
    trustProxy: parseTrustProxy(env.TRUST_PROXY, problems),
    migrationsRun: env.MIGRATIONS_RUN ? env.MIGRATIONS_RUN === 'true' : true,
    loginLimits: {
      accountAddress: intIn('LOGIN_LIMIT_ACCOUNT_ADDRESS', env.LOGIN_LIMIT_ACCOUNT_ADDRESS, 5, 1, 1_000_000, problems),
      address: intIn('LOGIN_LIMIT_ADDRESS', env.LOGIN_LIMIT_ADDRESS, 20, 1, 1_000_000, problems),
      account: intIn('LOGIN_LIMIT_ACCOUNT', env.LOGIN_LIMIT_ACCOUNT, 100, 1, 1_000_000, problems),
      windowSeconds: intIn('LOGIN_LIMIT_WINDOW', env.LOGIN_LIMIT_WINDOW, 900, 1, 7 * 86400, problems),
    },
    passwordDenyCommon: env.PASSWORD_DENY_COMMON === 'true',
    authRateLimit: intIn('AUTH_RATE_LIMIT', env.AUTH_RATE_LIMIT, 60, 1, 1_000_000, problems),
    retentionDays: intIn('RETENTION_DAYS', env.RETENTION_DAYS, 30, 1, 3650, problems),
    cleanupIntervalMinutes: intIn('CLEANUP_INTERVAL_MINUTES', env.CLEANUP_INTERVAL_MINUTES, 10, 0, 1440, problems),
    logLevel: (env.LOG_LEVEL ?? 'log') as AppConfig['logLevel'],
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The validated settings, injected with `@Inject(appConfig.KEY)`. */
export const appConfig = registerAs('app', (): AppConfig => parseEnv(process.env));
