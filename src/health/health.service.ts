import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorFunction,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { errorBody } from '../common/http-error';
import { appConfig, type AppConfig } from '../config/app.config';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness';

/** Each dependency's state by its key: `{ database: 'up', redis: 'down' }`. */
export type DependencyStates = Record<string, 'up' | 'down'>;

/** What a ready server answers: `{ status: 'ok', database: 'up' }`, plus `redis: 'up'` when checked. */
export interface Readiness {
  status: 'ok';
  database: 'up';
  [dependency: string]: string;
}

/**
 * Readiness through @nestjs/terminus: a `SELECT 1` on the database and a ping of each extra
 * dependency (READINESS_CHECKS), all at once, each bounded by DATABASE_TIMEOUT_MS, so a database
 * that stops answering makes /health say so within that time rather than hang. Terminus also
 * answers "not ready" from the moment the app starts shutting down.
 */
@Injectable()
export class HealthService {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    @Inject(READINESS_CHECKS) private readonly extra: ReadinessCheck[],
  ) {}

  /** Every dependency up: their states; otherwise a 503 in the error shape, with their states. */
  async readiness(): Promise<Readiness> {
    const timeout = this.config.databaseTimeoutMs;
    const checks: HealthIndicatorFunction[] = [
      () => this.database.pingCheck('database', { connection: this.dataSource, timeout }),
      ...this.extra.map((dependency) => () => this.ping(dependency, timeout)),
    ];
    try {
      return { status: 'ok', database: 'up', ...states(await this.health.check(checks)) };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const dependencies = states(result);
      const down = Object.keys(dependencies).filter((key) => dependencies[key] === 'down');
      const message =
        result.status === 'shutting_down'
          ? 'The server is shutting down'
          : down.includes('database')
            ? 'The database is unreachable'
            : `Unreachable: ${down.join(', ')}`;
      this.logger.warn(`Not ready: ${message}`);
      throw new ServiceUnavailableException(errorBody(503, message, { status: 'error', ...dependencies }));
    }
  }

  /** One extra dependency, up or down (never a thrown error, which terminus would pass on as a 500). */
  private async ping(dependency: ReadinessCheck, timeout: number): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(dependency.key);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        dependency.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout of ${timeout}ms`)), timeout))),
      ]);
      return check.up();
    } catch {
      return check.down();
    } finally {
      clearTimeout(timer);
    }
  }
}

function states(result: HealthCheckResult): DependencyStates {
  return Object.fromEntries(
    Object.entries(result.details).map(([key, detail]) => [key, detail.status === 'up' ? 'up' : 'down']),
  );
}
