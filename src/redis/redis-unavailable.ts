import { Logger, ServiceUnavailableException } from '@nestjs/common';

const logger = new Logger('Redis');

/**
 * A throttle that cannot reach its shared counts fails closed: the request gets 503 (with the
 * exception filter's Retry-After), never an unlimited pass and never a 500.
 */
export function redisUnavailable(error: unknown): ServiceUnavailableException {
  const { name, message } = error instanceof Error ? error : { name: typeof error, message: '' };
  logger.warn(`Redis command failed: ${name}: ${message}`);
  return new ServiceUnavailableException('The service is temporarily unavailable; try again shortly');
}
