import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Transactions } from '../common/database/transactions';
import { MailModule } from '../mail/mail.module';
import { SessionsModule } from '../sessions/sessions.module';
import { Passkey } from './passkey.entity';
import { PasskeysController } from './passkeys.controller';
import { PasskeyEvents } from './passkeys.events';
import { PasskeyNotices } from './passkeys.notices';
import { PasskeysRepository } from './passkeys.repository';
import { PasskeysService } from './passkeys.service';
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
import { WebauthnChallenge } from './webauthn-challenge.entity';
import { WebauthnChallengesRepository } from './webauthn-challenges.repository';
import { WebauthnChallenges } from './webauthn-challenges.service';

/**
 * The ways an account proves itself beyond the password (passkeys, an authenticator app and its
 * recovery codes), their tables, rules and management routes, and the pending sign-ins that wait
 * for a second factor. Signing in with one ends in a session, which is auth's: AuthModule imports
 * this module, never the other way.
 */
@Module({
  imports: [
    SessionsModule,
    MailModule,
    TypeOrmModule.forFeature([Passkey, WebauthnChallenge, TotpFactor, RecoveryCode, PendingSignIn]),
  ],
  controllers: [PasskeysController, TotpController],
  providers: [
    Transactions,
    PasskeysService,
    PasskeysRepository,
    PasskeyEvents,
    PasskeyNotices,
    WebauthnChallenges,
    WebauthnChallengesRepository,
    TotpRepository,
    TotpService,
    TotpNotices,
    TotpEvents,
    PendingSignInsRepository,
    PendingSignIns,
  ],
  exports: [PasskeysService, WebauthnChallenges, TotpService, TotpNotices, TotpEvents, PendingSignIns],
})
export class FactorsModule {}
