import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { Transactions } from '../common/database/transactions';
import { appConfig, type AppConfig } from '../config/app.config';
import { FactorsModule } from '../factors/factors.module';
import { MailModule } from '../mail/mail.module';
import { RedisModule } from '../redis/redis.module';
import { RedisService } from '../redis/redis.service';
import { RedisThrottlerStorage } from '../redis/redis-throttler-storage';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AfterResponse } from './after-response';
import { AuthController } from './auth.controller';
import { addressKey } from './address-key';
import { AuthService } from './auth.service';
import { DeviceCookie } from './device-cookie';
import { EmailToken } from './email-token.entity';
import { EmailTokensRepository } from './email-tokens.repository';
import { EmailTokens } from './email-tokens.service';
import { LoginAttempt } from './login-attempt.entity';
import { LoginAttemptsRepository } from './login-attempts.repository';
import { LoginAttemptsService } from './login-attempts.service';
import { InMemoryLoginFailureStore, LOGIN_FAILURE_STORE, LoginThrottle } from './login-throttle';
import { Notices } from './notices';
import { PasskeySignInController } from './passkey-sign-in.controller';
import { PasskeySignIn } from './passkey-sign-in.service';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy';
import { RecoveryController } from './recovery.controller';
import { RecoveryMails } from './recovery-mails';
import { RecoveryService } from './recovery.service';
import { RedisLoginFailureStore } from './redis-login-failure-store';
import { SecondFactorCookie } from './second-factor-cookie';
import { SecondFactorController } from './second-factor.controller';
import { SecondFactorService } from './second-factor.service';
import { SessionGuard } from './session.guard';

@Module({
  imports: [
    UsersModule,
    SessionsModule,
    RedisModule,
    MailModule,
    FactorsModule,
    TypeOrmModule.forFeature([LoginAttempt, EmailToken]),
    // A coarse request-rate limit per client address on /login, /signup and the recovery routes
    // (failed-login limits are LoginThrottle's). Used per route with @UseGuards(ThrottlerGuard), not as a global guard.
    // With REDIS_URL the counts are in Redis, shared by every instance; without it, in this process.
    ThrottlerModule.forRootAsync({
      imports: [RedisModule],
      inject: [appConfig.KEY, RedisService],
      useFactory: (config: AppConfig, redis: RedisService) => ({
        storage: redis.client ? new RedisThrottlerStorage(redis.client) : undefined,
        // One budget per address shared by those routes (not one per route).
        throttlers: [
          {
            name: 'default',
            ttl: 60_000,
            limit: config.authRateLimit,
            generateKey: (_ctx, tracker) => `auth:${tracker}`,
          },
        ],
        errorMessage: 'Too many requests; try again later',
        // Keyed like LoginThrottle's per-address limits: an IPv6 /64 is one address.
        getTracker: (req: Record<string, unknown>) => addressKey((req as unknown as FastifyRequest).ip),
      }),
    }),
  ],
  controllers: [AuthController, RecoveryController, PasskeySignInController, SecondFactorController],
  providers: [
    AuthService,
    PasskeySignIn,
    DeviceCookie,
    Notices,
    PasswordHasher,
    PasswordPolicy,
    LoginThrottle,
    LoginAttemptsService,
    LoginAttemptsRepository,
    EmailTokens,
    EmailTokensRepository,
    RecoveryMails,
    RecoveryService,
    AfterResponse,
    Transactions,
    SecondFactorService,
    SecondFactorCookie,
    // Failed-login counts: in Redis, shared by every instance, when REDIS_URL is set; else in this process.
    {
      provide: LOGIN_FAILURE_STORE,
      inject: [RedisService],
      useFactory: (redis: RedisService) =>
        redis.client ? new RedisLoginFailureStore(redis.client) : new InMemoryLoginFailureStore(),
    },
    SessionGuard,
    // useExisting, so a test can override SessionGuard and the global guard follows.
    { provide: APP_GUARD, useExisting: SessionGuard },
  ],
  // LoginAttemptsService and EmailTokens for the cleanup job, which prunes the attempts log and
  // spent links; AuthService for the admin routes (deactivateAccount).
  exports: [LoginAttemptsService, EmailTokens, AuthService],
})
export class AuthModule {}
