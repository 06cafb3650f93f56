import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { appConfig, type AppConfig } from '../config/app.config';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginAttempt } from './login-attempt.entity';
import { LoginAttemptsService } from './login-attempts.service';
import { InMemoryLoginFailureStore, LOGIN_FAILURE_STORE, LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy';
import { SessionGuard } from './session.guard';

@Module({
  imports: [
    UsersModule,
    SessionsModule,
    TypeOrmModule.forFeature([LoginAttempt]),
    // A coarse request-rate limit per client address on /login and /signup (failed-login limits
    // are LoginThrottle's). Used per route with @UseGuards(ThrottlerGuard), not as a global guard.
    ThrottlerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        // One budget per address shared by both routes (not one per route).
        throttlers: [
          {
            name: 'default',
            ttl: 60_000,
            limit: config.authRateLimit,
            generateKey: (_ctx, tracker) => `auth:${tracker}`,
          },
        ],
        errorMessage: 'Too many requests; try again later',
        getTracker: (req: Record<string, unknown>) => (req as unknown as FastifyRequest).ip ?? 'unknown',
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    PasswordHasher,
    PasswordPolicy,
    LoginThrottle,
    LoginAttemptsService,
    // Failed-login counts of this instance; a shared store can replace it for several instances.
    { provide: LOGIN_FAILURE_STORE, useClass: InMemoryLoginFailureStore },
    SessionGuard,
    // useExisting, so a test can override SessionGuard and the global guard follows.
    { provide: APP_GUARD, useExisting: SessionGuard },
  ],
  // For the cleanup job, which prunes the attempts log.
  exports: [LoginAttemptsService],
})
export class AuthModule {}
