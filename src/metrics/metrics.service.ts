import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource, MoreThan } from 'typeorm';
import { Clock } from '../common/clock';
import { errorBody } from '../common/http-error';
import { Meter } from '../common/meter';
import { appConfig, type AppConfig } from '../config/app.config';

/** The label of a request no route matched (one label for all of them: no cardinality from URLs). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Request duration buckets (seconds), with a bound at the 250 ms SLO. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The Prometheus metrics (docs/OPERATIONS.md lists them): a registry of the app's own (never
 * prom-client's global one, so several apps in one process, as in the tests, do not collide), the
 * process metrics, the HTTP request histogram (fed by app.setup's onResponse hook), the product's
 * counters (fed through Meter), and gauges read from the database at scrape time (active sessions,
 * the outbox): several instances share one database, so a count there is the same whichever
 * instance is scraped, where an in-memory gauge would only know its own instance's share.
 *
 * Served on the METRICS_PORT listener (this class owns it) and, with METRICS_TOKEN, on the main
 * port behind that bearer token (app.setup registers the route).
 */
@Injectable()
export class MetricsService extends Meter implements OnApplicationBootstrap, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'route' | 'method' | 'status_code'>;
  private readonly refused: Counter<'route' | 'status_code'>;
  private readonly signIns: Counter<'outcome'>;
  private readonly checks: Counter<'result'>;
  private readonly started: Counter;
  private readonly outboxFailures: Counter<'kind' | 'outcome'>;
  private readonly ended: Counter<'reason'>;
  private readonly hashDuration: Histogram;
  private hashQueue: () => number = () => 0;
  private readonly tokenDigest: Buffer | null;
  private server: Server | null = null;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    super();
    this.logger.setContext('Metrics');
    this.tokenDigest = config.metrics.token === null ? null : digest(config.metrics.token);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by route template (unmatched for no route), method and status, in seconds',
      labelNames: ['route', 'method', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.refused = new Counter({
      name: 'http_refused_total',
      help: 'Requests refused for load: 429 (rate limits, sign-in throttling) and 503 (hash queue full, database or Redis down, shutting down)',
      labelNames: ['route', 'status_code'],
      registers,
    });
    this.signIns = new Counter({
      name: 'sign_in_attempts_total',
      help: 'Sign-in attempts by outcome (the login attempt reasons of /login_activity)',
      labelNames: ['outcome'],
      registers,
    });
    this.checks = new Counter({
      name: 'session_checks_total',
      help: "The session guard's answers on routes that look the session up: ok, or the 401 reason",
      labelNames: ['result'],
      registers,
    });
    this.started = new Counter({ name: 'sessions_started_total', help: 'Sessions started', registers });
    this.outboxFailures = new Counter({
      name: 'outbox_delivery_failures_total',
      help: 'Outbox deliveries that failed, by kind (mail, webhook) and outcome (retry: tried again later; given_up)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.ended = new Counter({
      name: 'sessions_ended_total',
      help: 'Sessions ended, by end reason',
      labelNames: ['reason'],
      registers,
    });
    this.hashDuration = new Histogram({
      name: 'password_hash_duration_seconds',
      help: 'One bcrypt hash or compare (its wait for a slot excluded), in seconds',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    const hashQueue = () => this.hashQueue();
    new Gauge({
      name: 'password_hash_queue_depth',
      help: 'Password hashes waiting for a slot (BCRYPT_MAX_PENDING bounds it; beyond it, 503)',
      registers,
      collect() {
        this.set(hashQueue());
      },
    });
    const activeSessions = () => this.countActiveSessions();
    new Gauge({
      name: 'sessions_active',
      help: 'Active unexpired sessions, counted in the database at scrape time (all instances)',
      registers,
      async collect() {
        this.reset();
        const n = await activeSessions();
        if (n !== null) this.set(n);
      },
    });
    const outbox = (state: 'pending' | 'failed') => this.countOutbox(state);
    new Gauge({
      name: 'outbox_pending',
      help: 'Outbox rows waiting for delivery, by kind, counted at scrape time',
      labelNames: ['kind'],
      registers,
      async collect() {
        this.reset();
        for (const [kind, n] of (await outbox('pending')) ?? []) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'outbox_given_up',
      help: 'Outbox rows given up (a permanent failure or 30 attempts), by kind, still in the table (RETENTION_DAYS)',
      labelNames: ['kind'],
      registers,
      async collect() {
        this.reset();
        for (const [kind, n] of (await outbox('failed')) ?? []) this.set({ kind }, n);
      },
    });
  }

  // ---- Meter ----

  signIn(outcome: string): void {
    this.signIns.inc({ outcome });
  }

  sessionCheck(result: string): void {
    this.checks.inc({ result });
  }

  sessionStarted(): void {
    this.started.inc();
  }

  outboxDeliveryFailed(kind: string, outcome: 'retry' | 'given_up'): void {
    this.outboxFailures.inc({ kind, outcome });
  }

  sessionsEnded(reason: string, count: number): void {
    if (count > 0) this.ended.inc({ reason }, count);
  }

  passwordHashed(seconds: number): void {
    this.hashDuration.observe(seconds);
  }

  watchHashQueue(depth: () => number): void {
    this.hashQueue = depth;
  }

  // ---- HTTP ----

  /** One answered request: `route` is the matched route's template (undefined when none matched). */
  observeRequest(route: string | undefined, method: string, status: number, milliseconds: number): void {
    const labels = { route: route ?? UNMATCHED_ROUTE, method, status_code: status };
    this.httpDuration.observe(labels, milliseconds / 1000);
    if (status === 429 || status === 503) this.refused.inc({ route: labels.route, status_code: status });
  }

  /** Whether an Authorization header carries METRICS_TOKEN (compared in constant time). */
  authorizes(header: string | undefined): boolean {
    if (this.tokenDigest === null || !header) return false;
    const match = /^Bearer +(\S+) *$/i.exec(header);
    return match !== null && timingSafeEqual(digest(match[1]), this.tokenDigest);
  }

  /** The text format body and its Content-Type. */
  async exposition(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  // ---- the METRICS_PORT listener ----

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metrics.port === 0) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0].replace(/\/$/, '').toLowerCase();
      if (req.method === 'GET' && path === '/metrics') {
        void this.exposition().then(
          ({ body, contentType }) =>
            res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
          () =>
            res
              .writeHead(500, { 'content-type': 'application/json' })
              .end(JSON.stringify(errorBody(500, 'Metrics failed'))),
        );
        return;
      }
      const status = path === '/metrics' ? 405 : 404;
      const message = status === 405 ? 'Only GET /metrics is served here' : `Cannot ${req.method} ${req.url}`;
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        ...(status === 405 ? { allow: 'GET' } : {}),
      });
      res.end(JSON.stringify(errorBody(status, message)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metrics.port, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- scrape-time counts ----

  /** Active sessions past no expiry, on the (is_active, expires_at) index; null if the database failed. */
  private async countActiveSessions(): Promise<number | null> {
    try {
      return await this.dataSource
        .getRepository('Session')
        .count({ where: { isActive: true, expiresAt: MoreThan(this.clock.now()) } });
    } catch (error) {
      this.scrapeFailed('sessions_active', error);
      return null;
    }
  }

  /** Outbox rows pending or given up, by kind (on the partial indexes ix_outbox_pending, ix_outbox_failed). */
  private async countOutbox(state: 'pending' | 'failed'): Promise<Array<[string, number]> | null> {
    try {
      const where = state === 'pending' ? 'o.sentAt IS NULL AND o.failedAt IS NULL' : 'o.failedAt IS NOT NULL';
      const rows = await this.dataSource
        .getRepository('OutboxEntry')
        .createQueryBuilder('o')
        .select('o.kind', 'kind')
        .addSelect('COUNT(*)', 'n')
        .where(where)
        .groupBy('o.kind')
        .getRawMany<{ kind: string; n: string | number }>();
      return rows.map((row) => [row.kind, Number(row.n)]);
    } catch (error) {
      this.scrapeFailed(`outbox_${state}`, error);
      return null;
    }
  }

  /** A gauge the database could not give is left out of this scrape (an alert on absent() sees it). */
  private scrapeFailed(metric: string, error: unknown): void {
    const name = error instanceof Error ? error.constructor.name : typeof error;
    this.logger.warn({ event: 'metrics_scrape_failed', metric, error: name }, 'a metric could not be read');
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
