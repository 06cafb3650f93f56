import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { appConfig, type AppConfig } from '../config/app.config';

/**
 * The bound on a graceful shutdown (SIGTERM, main.ts). Nest then closes the HTTP server — Fastify
 * stops accepting connections, answers requests that still arrive on open ones with 503, closes
 * idle keep-alive connections and waits for the requests in flight — and only after that the
 * database pool. Requests still running SHUTDOWN_TIMEOUT_MS after the signal have their
 * connections closed, so the server closes and the process exits on time.
 */
@Injectable()
export class ShutdownDeadline implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  beforeApplicationShutdown(signal?: string): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    if (signal) this.logger.log(`${signal}: finishing the requests in flight, taking no new ones`);
    this.timer = setTimeout(() => {
      this.logger.warn(`Requests still in flight after ${this.config.shutdownTimeoutMs} ms: closing their connections`);
      server.closeAllConnections();
    }, this.config.shutdownTimeoutMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }
}
