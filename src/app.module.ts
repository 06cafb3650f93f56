import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module';
import { ChatModule } from './chat/chat.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { AppValidationPipe } from './common/validation.pipe';
import { appConfig, type AppConfig } from './config/app.config';
import { buildDataSourceOptions } from './config/database.options';
import { HealthModule } from './health/health.module';
import { SessionsModule } from './sessions/sessions.module';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: [appConfig], cache: true }),
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config),
        // Fail fast at boot when the database is unreachable, instead of retrying for minutes.
        retryAttempts: 1,
        retryDelay: 500,
      }),
    }),
    AuthModule,
    UsersModule,
    SessionsModule,
    ChatModule,
    HealthModule,
  ],
  providers: [
    // Registered as providers so the app that tests build is exactly the production one.
    { provide: APP_PIPE, useClass: AppValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
export class AppModule {}
