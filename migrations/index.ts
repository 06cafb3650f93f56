import { InitialSchema1764200000000 } from './1764200000000-InitialSchema';
import { SecurityAudit1764300000000 } from './1764300000000-SecurityAudit';
import { TimestampWithTimeZone1764400000000 } from './1764400000000-TimestampWithTimeZone';
import { SessionInsights1764500000000 } from './1764500000000-SessionInsights';
import { CredentialVersion1764600000000 } from './1764600000000-CredentialVersion';
import { LoginActivity1764650000000 } from './1764650000000-LoginActivity';
import { EmailNfc1764700000000 } from './1764700000000-EmailNfc';
import { Outbox1764800000000 } from './1764800000000-Outbox';
import { OutboxRetention1764820000000 } from './1764820000000-OutboxRetention';
import { EmailTokens1764900000000 } from './1764900000000-EmailTokens';
import { AuthMethods1765000000000 } from './1765000000000-AuthMethods';
import { Passkeys1765100000000 } from './1765100000000-Passkeys';
import { Totp1765200000000 } from './1765200000000-Totp';
import { OutboxOrdering1765300000000 } from './1765300000000-OutboxOrdering';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and tests run the same set. */
export const migrations = [
  InitialSchema1764200000000,
  SecurityAudit1764300000000,
  TimestampWithTimeZone1764400000000,
  SessionInsights1764500000000,
  CredentialVersion1764600000000,
  LoginActivity1764650000000,
  EmailNfc1764700000000,
  Outbox1764800000000,
  OutboxRetention1764820000000,
  EmailTokens1764900000000,
  AuthMethods1765000000000,
  Passkeys1765100000000,
  Totp1765200000000,
  OutboxOrdering1765300000000,
];
