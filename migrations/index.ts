import { InitialSchema1764200000000 } from './1764200000000-InitialSchema';
import { SecurityAudit1764300000000 } from './1764300000000-SecurityAudit';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and tests run the same set. */
export const migrations = [InitialSchema1764200000000, SecurityAudit1764300000000];
