import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { configureApp, createHttpAdapter } from './app.setup';
import { AppLogger } from './common/logging';
import { appConfig, ConfigError, parseEnv, type AppConfig } from './config/app.config';
import { describeDatabase, migrationsAppliedAtStart, SchemaNotCurrentError } from './config/database.options';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

async function bootstrap(): Promise<void> {
  // Validate before anything starts, so a bad variable stops the server with its name.
  const early = parseEnv(process.env);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(early), {
    bodyParser: false,
    abortOnError: false,
    // Until the JSON logger below takes over (and if the app fails before it can), Nest's console
    // logger prints at LOG_LEVEL; what it buffered meanwhile is then written as JSON.
    logger: LEVELS.slice(0, LEVELS.indexOf(early.logLevel) + 1),
    bufferLogs: true,
  });
  app.useLogger(new AppLogger(app.get(PinoNestLogger)));
  // SIGTERM and SIGINT: finish the requests in flight (up to SHUTDOWN_TIMEOUT_MS, see
  // common/shutdown-deadline.ts), close the database pool, exit 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await configureApp(app);
  const config = app.get<AppConfig>(appConfig.KEY);
  if (config.usingDevelopmentSecret) {
    Logger.warn(
      'SECRET_KEY is not set: using the public development key. Set SECRET_KEY outside development.',
      'Config',
    );
  }
  await listen(app, config.port);
  Logger.log(startupLine(app, config), 'Bootstrap');
}

/**
 * The one line that says the server is up: where it listens, the database it uses (never a
 * password: see describeDatabase) and the migrations this start applied. As fields too, for
 * whoever reads the JSON.
 */
function startupLine(app: NestFastifyApplication, config: AppConfig): Record<string, unknown> {
  const addresses = app
    .getHttpAdapter()
    .getInstance()
    .addresses()
    .map(({ address, family, port }) => (family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`));
  const everywhere = addresses.some((a) => a.startsWith('[::]:') || a.startsWith('0.0.0.0:'));
  const database = describeDatabase(config);
  const migrations = [...migrationsAppliedAtStart(app.get(DataSource))];
  const applied = migrations.length > 0 ? `migrations applied: ${migrations.join(', ')}` : 'migrations: none pending';
  const msg =
    `Listening on http://localhost:${config.port} (${everywhere ? 'every interface, ' : ''}${addresses.join(', ')}; docs at /docs); ` +
    `database: ${database}; ${applied}`;
  return { msg, event: 'started', addresses, database, migrations_applied: migrations };
}

/**
 * Every interface, IPv6 and IPv4 alike (what Node and Express do by default; Fastify's own default
 * is localhost only), or IPv4 alone on a machine without IPv6.
 */
async function listen(app: NestFastifyApplication, port: number): Promise<void> {
  try {
    await app.listen(port, '::');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw error;
    await app.listen(port, '0.0.0.0');
  }
}

/**
 * Every start-up failure is printed. Nest holds its log lines back until the app is up
 * (bufferLogs), so they are let out first; then the reason goes to stderr with a synchronous write,
 * because process.exit does not wait for an asynchronous log stream (the reason used to be lost
 * that way: a failure in a bootstrap hook exited 1 printing nothing). A failure an operator causes
 * (a bad variable, a database without its schema) prints its message; anything else its stack.
 */
bootstrap().catch((error: unknown) => {
  Logger.flush();
  const expected = error instanceof ConfigError || error instanceof SchemaNotCurrentError;
  const text = error instanceof Error ? (expected ? error.message : (error.stack ?? error.message)) : String(error);
  writeSync(2, `Start-up failed: ${text}\n`);
  process.exit(1);
});
