/**
 * A dependency besides the database that readiness (GET /health) checks: `ping` resolves while it
 * answers and rejects (or outlasts DATABASE_TIMEOUT_MS) when it does not. `key` names it in the
 * response (`"redis": "up"`).
 */
export interface ReadinessCheck {
  key: string;
  ping(): Promise<unknown>;
}

/**
 * The extra readiness checks, `ReadinessCheck[]`: none today. The seam for Redis: when
 * config.redisUrl is set, HealthModule provides this token with `[{ key: 'redis', ping }]` from
 * the Redis client's module, and /health reports it beside the database.
 */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
