import { ConfigError, defaultBcryptConcurrency, DEVELOPMENT_SECRET_KEY, parseEnv } from './app.config';
import { parseDatabaseUrl } from './database.options';

describe('parseEnv', () => {
  it('gives the contract defaults for an empty environment', () => {
    expect(parseEnv({})).toMatchObject({
      nodeEnv: 'development',
      port: 5000,
      databaseUrl: 'sqlite:///users.db',
      secretKey: DEVELOPMENT_SECRET_KEY,
      usingDevelopmentSecret: true,
      sessionTimeout: 86400,
      sessionIdleTimeout: 0,
      cookieSecure: false,
      allowedOrigins: [],
      maxSessionsPerUser: 10,
      bcryptRounds: 12,
      trustProxy: false,
      migrationsRun: true,
      retentionDays: 30,
      cleanupIntervalMinutes: 10,
    });
  });

  it('hashes one password fewer at once than there are cores, so a login burst leaves the event loop a core', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultBcryptConcurrency(cores))).toEqual([1, 1, 2, 3, 4, 4]);
    expect(parseEnv({}).bcryptConcurrency).toBe(defaultBcryptConcurrency());
    expect(parseEnv({ BCRYPT_CONCURRENCY: '3' }).bcryptConcurrency).toBe(3);
    expect(() => parseEnv({ BCRYPT_CONCURRENCY: '0' })).toThrow(/BCRYPT_CONCURRENCY/);
    expect(() => parseEnv({ BCRYPT_CONCURRENCY: 'many' })).toThrow(/BCRYPT_CONCURRENCY must be a whole number/);
  });

  it('normalises ADMIN_EMAILS as signup does, and refuses a look-alike address naming the variable', () => {
    expect(
      parseEnv({ ADMIN_EMAILS: ' Ada@Example.com , jose\u0301@example.com,\uff41da@example.com' }).adminEmails,
    ).toEqual(['ada@example.com', 'jos\u00e9@example.com']);
    expect(() => parseEnv({ ADMIN_EMAILS: 'ada\u200b@example.com' })).toThrow(
      /ADMIN_EMAILS.*"ada\\u\{200b\}@example\.com": an email must not contain invisible/,
    );
    expect(() => parseEnv({ ADMIN_EMAILS: '\u0430da@example.com' })).toThrow(/ADMIN_EMAILS.*must not mix scripts/);
  });

  it('requires SECRET_KEY in production and makes cookies Secure there by default', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/SECRET_KEY is required/);
    const config = parseEnv({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(32) });
    expect(config.cookieSecure).toBe(true);
    expect(
      parseEnv({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(32), SESSION_COOKIE_SECURE: 'false' }).cookieSecure,
    ).toBe(false);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['SESSION_TIMEOUT', '-5'],
    ['SESSION_TIMEOUT', '1.5'],
    ['SESSION_IDLE_TIMEOUT', 'soon'],
    ['SESSION_COOKIE_SECURE', 'yes'],
    ['BCRYPT_ROUNDS', '3'],
    ['BCRYPT_ROUNDS', '20'],
    ['MAX_SESSIONS_PER_USER', '0'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['SECRET_KEY', 'too-short'],
    ['ALLOWED_ORIGINS', 'not a url'],
    ['ALLOWED_ORIGINS', 'https://app.example.com/path'],
    ['NODE_ENV', 'staging'],
    ['MIGRATIONS_RUN', '1'],
    ['TRUST_PROXY', 'foo'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['RETENTION_DAYS', '0'],
    ['CLEANUP_INTERVAL_MINUTES', '-1'],
    ['CLEANUP_INTERVAL_MINUTES', '1441'],
  ])('stops on %s=%p with a message naming the variable', (name, value) => {
    let error: unknown;
    try {
      parseEnv({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
  });

  it('reads lists, booleans and proxy settings', () => {
    const config = parseEnv({
      ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:3000/',
      SESSION_COOKIE_SECURE: 'true',
      TRUST_PROXY: '1',
      SESSION_IDLE_TIMEOUT: '900',
    });
    expect(config.allowedOrigins).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(config.cookieSecure).toBe(true);
    expect(config.trustProxy).toBe(1);
    expect(config.sessionIdleTimeout).toBe(900);
    expect(parseEnv({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(parseEnv({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(parseEnv({ TRUST_PROXY: '203.0.113.7,::1' }).trustProxy).toBe('203.0.113.7, ::1');
  });

  it('reads the metrics and webhook settings, and refuses webhooks without a signing secret', () => {
    expect(parseEnv({})).toMatchObject({ metrics: { port: 0, token: null }, webhooks: { urls: [], secret: null } });
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    expect(
      parseEnv({
        METRICS_PORT: '9464',
        METRICS_TOKEN: 'a-long-enough-token',
        WEBHOOK_URLS: 'https://a.example/hook, http://10.0.0.2:8080/events',
        WEBHOOK_SECRET: secret,
      }),
    ).toMatchObject({
      metrics: { port: 9464, token: 'a-long-enough-token' },
      webhooks: { urls: ['https://a.example/hook', 'http://10.0.0.2:8080/events'], secret },
    });
    expect(() => parseEnv({ WEBHOOK_URLS: 'https://a.example/hook' })).toThrow(/WEBHOOK_SECRET is required/);
    expect(() => parseEnv({ WEBHOOK_URLS: 'ftp://a.example', WEBHOOK_SECRET: secret })).toThrow(/WEBHOOK_URLS/);
    expect(() => parseEnv({ WEBHOOK_SECRET: 'not-a-secret' })).toThrow(/WEBHOOK_SECRET must be whsec_/);
    expect(() => parseEnv({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16/);
  });

  it('treats an empty value as not set', () => {
    expect(parseEnv({ PORT: '', SESSION_TIMEOUT: '', SECRET_KEY: '' })).toMatchObject({
      port: 5000,
      sessionTimeout: 86400,
      usingDevelopmentSecret: true,
    });
  });
});

describe('parseDatabaseUrl (SQLAlchemy-style, as the original system)', () => {
  it.each([
    ['sqlite:///users.db', { type: 'better-sqlite3', database: `${process.cwd()}/users.db` }],
    ['sqlite:///data/app.db', { type: 'better-sqlite3', database: `${process.cwd()}/data/app.db` }],
    ['sqlite:////var/lib/app/users.db', { type: 'better-sqlite3', database: '/var/lib/app/users.db' }],
    ['sqlite:///:memory:', { type: 'better-sqlite3', database: ':memory:' }],
    ['postgres://u:p@db:5432/app', { type: 'postgres', url: 'postgres://u:p@db:5432/app' }],
    ['postgresql://u@db/app', { type: 'postgres', url: 'postgresql://u@db/app' }],
  ])('%s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });
});
