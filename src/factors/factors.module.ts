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
import { WebauthnChallenge } from './webauthn-challenge.entity';
import { WebauthnChallengesRepository } from './webauthn-challenges.repository';
import { WebauthnChallenges } from './webauthn-challenges.service';

/**
 * The authentication factors beyond the password: their tables, rules and management routes.
 * Signing in with one ends in a session, which is auth's (AuthModule imports this module).
 */
@Module({
  imports: [SessionsModule, MailModule, TypeOrmModule.forFeature([Passkey, WebauthnChallenge])],
  controllers: [PasskeysController],
  providers: [
    Transactions,
    PasskeysService,
    PasskeysRepository,
    PasskeyEvents,
    PasskeyNotices,
    WebauthnChallenges,
    WebauthnChallengesRepository,
  ],
  exports: [PasskeysService, WebauthnChallenges],
})
export class FactorsModule {}
