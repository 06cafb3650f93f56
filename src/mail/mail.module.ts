import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Transactions } from '../common/database/transactions';
import { Links } from './links';
import { Mailer } from './mailer';
import { OutboxEntry } from './outbox.entity';
import { OutboxRepository } from './outbox.repository';
import { Outbox } from './outbox.service';

/**
 * Outgoing mail: the durable outbox that the flows enqueue into (Outbox), the Mailer that delivers
 * it, and Links for the URLs in it. Features that send mail import this module; it imports none of
 * them.
 */
@Module({
  imports: [TypeOrmModule.forFeature([OutboxEntry])],
  providers: [Mailer, Links, Outbox, OutboxRepository, Transactions],
  exports: [Mailer, Links, Outbox],
})
export class MailModule {}
