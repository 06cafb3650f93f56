import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Transactions } from '../common/database/transactions';
import { MailModule } from '../mail/mail.module';
import { SessionsModule } from '../sessions/sessions.module';
import { PendingSignIn } from './pending-sign-in.entity';
import { PendingSignIns } from './pending-sign-ins.service';
import { PendingSignInsRepository } from './pending-sign-ins.repository';
import { RecoveryCode } from './recovery-code.entity';
import { TotpEvents } from './totp-events';
import { TotpFactor } from './totp-factor.entity';
import { TotpNotices } from './totp-notices';
import { TotpController } from './totp.controller';
import { TotpRepository } from './totp.repository';
import { TotpService } from './totp.service';

/**
 * The ways an account proves itself beyond the password, and their management routes. The sign-in
 * routes that end in a session use them from auth (AuthModule imports this module; it never imports auth).
 */
@Module({
  imports: [SessionsModule, MailModule, TypeOrmModule.forFeature([TotpFactor, RecoveryCode, PendingSignIn])],
  controllers: [TotpController],
  providers: [
    Transactions,
    TotpRepository,
    TotpService,
    TotpNotices,
    TotpEvents,
    PendingSignInsRepository,
    PendingSignIns,
  ],
  exports: [TotpService, TotpNotices, TotpEvents, PendingSignIns],
})
export class FactorsModule {}
