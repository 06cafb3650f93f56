import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { redisUnavailable } from './redis-unavailable';

/**
 * @nestjs/throttler's counts in Redis, shared by every instance (keys
 * `<prefix>{<throttler key>:<throttler name>}:hits` and `…:blocked`), with a Redis failure turned
 * into 503 instead of the 500 an unknown error would give.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly storage: ThrottlerStorageRedisService;

  constructor(client: Redis) {
    // Given a client, the library leaves connecting and closing to RedisService.
    this.storage = new ThrottlerStorageRedisService(client);
  }

  async increment(...args: Parameters<ThrottlerStorage['increment']>): ReturnType<ThrottlerStorage['increment']> {
    try {
      return await this.storage.increment(...args);
    } catch (error) {
      throw redisUnavailable(error);
    }
  }
}
