import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { FactorsModule } from '../factors/factors.module';
import { MailModule } from '../mail/mail.module';
import { SessionsModule } from '../sessions/sessions.module';
import { CleanupService } from './cleanup.service';

/** The scheduled cleanup job; depends on the features whose tables it prunes, never the reverse. */
@Module({
  imports: [AuthModule, FactorsModule, SessionsModule, MailModule],
  providers: [CleanupService],
})
export class CleanupModule {}
