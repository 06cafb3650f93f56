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
 * The extra readiness checks, `ReadinessCheck[]`: Redis when REDIS_URL is set (HealthModule), so
 * /health reports `"redis": "up"` or `"down"` beside the database.
 */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
