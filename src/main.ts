import 'reflect-metadata';
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp, createHttpAdapter } from './app.setup';
import { appConfig, parseEnv, type AppConfig } from './config/app.config';

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
  app.useLogger(app.get(PinoNestLogger));
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
  Logger.log(`Listening on http://localhost:${config.port} (docs at /docs)`, 'Bootstrap');
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

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? error.message : String(error), 'Bootstrap');
  process.exit(1);
});
