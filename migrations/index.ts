import { InitialSchema1764200000000 } from './1764200000000-InitialSchema';
import { LoginAttempts1764300000000 } from './1764300000000-LoginAttempts';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and tests run the same set. */
export const migrations = [InitialSchema1764200000000, LoginAttempts1764300000000];
