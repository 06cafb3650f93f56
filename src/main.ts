import 'reflect-metadata';
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { appConfig, parseEnv, type AppConfig } from './config/app.config';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

async function bootstrap(): Promise<void> {
  // Validate before anything starts, so a bad variable stops the server with its name.
  const early = parseEnv(process.env);
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    abortOnError: false,
    // Until the JSON logger below takes over (and if the app fails before it can), Nest's console
    // logger prints at LOG_LEVEL; what it buffered meanwhile is then written as JSON.
    logger: LEVELS.slice(0, LEVELS.indexOf(early.logLevel) + 1),
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoNestLogger));
  app.enableShutdownHooks();
  configureApp(app);
  const config = app.get<AppConfig>(appConfig.KEY);
  if (config.usingDevelopmentSecret) {
    Logger.warn('SECRET_KEY is not set: using the public development key. Set SECRET_KEY outside development.', 'Config');
  }
  await app.listen(config.port);
  Logger.log(`Listening on http://localhost:${config.port} (docs at /docs)`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? error.message : String(error), 'Bootstrap');
  process.exit(1);
});
