import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { appConfig, type AppConfig } from '../config/app.config';

/** What every key this app writes to Redis starts with; a test overrides it to keep its keys apart. */
export const REDIS_KEY_PREFIX = Symbol('REDIS_KEY_PREFIX');
export const DEFAULT_REDIS_KEY_PREFIX = 'sessions:';

/** Longest wait for a connection or a command: past it the request gets 503 rather than hanging. */
const REDIS_TIMEOUT_MS = 2000;

/**
 * The app's one Redis connection, when REDIS_URL is set (`client` is null otherwise): the shared
 * failed-login counts and request-rate counts live there. Commands fail at once while Redis is
 * unreachable (no offline queue), so a request waits at most REDIS_TIMEOUT_MS; the client keeps
 * reconnecting in the background and the throttles work again as soon as Redis is back.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis | null;
  private down = false;

  constructor(@Inject(appConfig.KEY) config: AppConfig, @Inject(REDIS_KEY_PREFIX) keyPrefix: string) {
    this.client = config.redisUrl
      ? new Redis(config.redisUrl, {
          keyPrefix,
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: REDIS_TIMEOUT_MS,
          commandTimeout: REDIS_TIMEOUT_MS,
        })
      : null;
    // Without a listener ioredis prints every failed reconnection; one warning per outage is enough.
    this.client?.on('error', (error: Error) => {
      if (this.down) return;
      this.down = true;
      this.logger.warn(`Redis unreachable (${error.message}); throttled routes answer 503 until it is back`);
    });
    this.client?.on('ready', () => {
      if (this.down) this.logger.log('Redis reachable again');
      this.down = false;
    });
  }

  /** Connects at boot; an unreachable Redis is logged, not fatal (the client keeps retrying). */
  async onModuleInit(): Promise<void> {
    await this.client?.connect().catch(() => undefined);
  }

  /** After the HTTP server has closed, so no request in flight loses its connection. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }
}
