import { EmailToken } from './auth/email-token.entity';
import { LoginAttempt } from './auth/login-attempt.entity';
import { Chat } from './chat/chat.entity';
import { PendingSignIn } from './factors/pending-sign-in.entity';
import { RecoveryCode } from './factors/recovery-code.entity';
import { TotpFactor } from './factors/totp-factor.entity';
import { GlobalChat } from './chat/global-chat.entity';
import { Passkey } from './factors/passkey.entity';
import { WebauthnChallenge } from './factors/webauthn-challenge.entity';
import { OutboxEntry } from './mail/outbox.entity';
import { Session } from './sessions/session.entity';
import { User } from './users/user.entity';

/**
 * Every entity, for the data sources built outside the app: the TypeORM CLI's (`ormconfig.ts`) and
 * the migrations spec's. The app itself takes each from its module (`TypeOrmModule.forFeature`,
 * `autoLoadEntities`), so config knows no feature; test/migrations.e2e-spec.ts checks that the app
 * loads exactly this list.
 */
export const entities = [
  User,
  Session,
  Chat,
  GlobalChat,
  LoginAttempt,
  OutboxEntry,
  EmailToken,
  Passkey,
  WebauthnChallenge,
  TotpFactor,
  RecoveryCode,
  PendingSignIn,
];
