import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness';
import { RedisModule } from '../redis/redis.module';
import { RedisService } from '../redis/redis.service';

@Module({
  // Terminus's own logger is off: HealthService logs a failed check once, as a warning.
  imports: [TerminusModule.forRoot({ logger: false }), RedisModule],
  controllers: [HealthController],
  providers: [
    HealthService,
    // Extra readiness checks (see readiness.ts): Redis, when REDIS_URL is set.
    {
      provide: READINESS_CHECKS,
      inject: [RedisService],
      useFactory: (redis: RedisService): ReadinessCheck[] =>
        redis.client ? [{ key: 'redis', ping: () => redis.client!.ping() }] : [],
    },
  ],
})
export class HealthModule {}
