import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app.config';
import { MailModule } from '../mail/mail.module';
import { Outbox } from '../mail/outbox.service';
import { LifecycleEvents } from '../sessions/lifecycle-events';
import { WebhookEvents } from './webhook-events';
import { WebhookSender } from './webhook-sender';

/**
 * Session and account events as signed webhooks (Standard Webhooks; docs/OPERATIONS.md,
 * "Webhooks"). Provides LifecycleEvents, which sessions and auth declare and emit into (global:
 * they sit below this module), and gives the outbox its `webhook` sender when endpoints are set.
 */
@Global()
@Module({
  imports: [MailModule],
  providers: [WebhookEvents, { provide: LifecycleEvents, useExisting: WebhookEvents }],
  exports: [LifecycleEvents],
})
export class WebhooksModule implements OnModuleInit {
  constructor(
    private readonly outbox: Outbox,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { urls, secret } = this.config.webhooks;
    if (urls.length === 0 || !secret) return;
    const sender = new WebhookSender(secret);
    this.outbox.handle('webhook', (delivery) => sender.send(delivery));
  }
}
