import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { migrations } from '../migrations';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { ChatModule } from './chat/chat.module';
import { CleanupModule } from './cleanup/cleanup.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { ClockModule } from './common/clock.module';
import { ShutdownDeadline } from './common/shutdown-deadline';
import { LOG_DESTINATION, loggerParams, processLogger, RequestLogContext, ROOT_LOGGER } from './common/logging';
import { AppValidationPipe } from './common/validation.pipe';
import { appConfig, type AppConfig } from './config/app.config';
import { buildDataSourceOptions, openDataSource, SchemaNotCurrentError } from './config/database.options';
import { HealthModule } from './health/health.module';
import { MailModule } from './mail/mail.module';
import { MetricsModule } from './metrics/metrics.module';
import { PagesModule } from './pages/pages.module';
import { SessionsModule } from './sessions/sessions.module';
import { UsersModule } from './users/users.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: [appConfig], cache: true }),
    // JSON log lines with a request id in each (see common/logging.ts); main.ts makes it Nest's logger.
    LoggerModule.forRootAsync({
      providers: [
        { provide: LOG_DESTINATION, useValue: null },
        { provide: ROOT_LOGGER, inject: [appConfig.KEY, LOG_DESTINATION], useFactory: processLogger },
        RequestLogContext,
      ],
      inject: [ROOT_LOGGER],
      useFactory: loggerParams,
    }),
    ClockModule,
    ScheduleModule.forRoot(),
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config, { migrations }),
        // Each entity comes from its feature's TypeOrmModule.forFeature (config knows no feature).
        autoLoadEntities: true,
        // Fail fast at boot when the database is unreachable, instead of retrying for minutes.
        retryAttempts: 1,
        retryDelay: 500,
        toRetry: (error: unknown) => !(error instanceof SchemaNotCurrentError),
      }),
      dataSourceFactory: (options) => openDataSource(options!),
    }),
    AuthModule,
    UsersModule,
    SessionsModule,
    ChatModule,
    HealthModule,
    PagesModule,
    CleanupModule,
    AdminModule,
    MailModule,
    MetricsModule,
    WebhooksModule,
  ],
  providers: [
    // Registered as providers so the app that tests build is exactly the production one.
    { provide: APP_PIPE, useClass: AppValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    ShutdownDeadline,
  ],
})
export class AppModule {}
