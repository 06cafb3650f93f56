import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Transaction } from '../common/database/transactions';
import { appConfig, type AppConfig } from '../config/app.config';
import { Outbox } from '../mail/outbox.service';
import type { LifecycleEventData, LifecycleEventType, LifecycleEvents } from '../sessions/lifecycle-events';

/** A short, stable name for an endpoint in ordering keys (its URL may be long, or hold a token). */
function endpointTag(url: string): string {
  return createHash('sha256').update(url).digest('base64url').slice(0, 16);
}

/**
 * The events as webhooks: one outbox row per event and endpoint (WEBHOOK_URLS), written in the
 * transaction of the change, so one endpoint's outage holds back only its own rows. The
 * `webhook-id` (msg_<uuid>) is chosen here, once per event, and is the same for every endpoint and
 * every attempt: receivers dedupe by it. The ordering key is the endpoint's and the event's (a
 * session's events, a user's), so each endpoint gets a session's events in the order written.
 * Without endpoints configured nothing is written.
 */
@Injectable()
export class WebhookEvents implements LifecycleEvents {
  private readonly endpoints: { url: string; tag: string }[];

  constructor(
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.endpoints = config.webhooks.urls.map((url) => ({ url, tag: endpointTag(url) }));
  }

  async emit<T extends LifecycleEventType>(
    type: T,
    data: LifecycleEventData[T],
    orderingKey: string | null,
    tx: Transaction,
  ): Promise<void> {
    if (this.endpoints.length === 0) return;
    const id = `msg_${randomUUID()}`;
    const timestamp = this.clock.now().toISOString();
    for (const { url, tag } of this.endpoints)
      await this.outbox.enqueue(
        'webhook',
        { url, id, type, timestamp, data: { ...data } },
        tx,
        orderingKey === null ? null : `${tag}:${orderingKey}`,
      );
  }
}
