import { Module } from '@nestjs/common';
import { DEFAULT_REDIS_KEY_PREFIX, REDIS_KEY_PREFIX, RedisService } from './redis.service';

/**
 * The Redis connection shared by the features that need state common to every instance (auth's
 * throttles; /health may ping it). Not global: a module that uses Redis imports this one, and Nest
 * builds it once, so the app holds a single connection.
 */
@Module({
  providers: [{ provide: REDIS_KEY_PREFIX, useValue: DEFAULT_REDIS_KEY_PREFIX }, RedisService],
  exports: [RedisService],
})
export class RedisModule {}
