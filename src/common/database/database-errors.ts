/**
 * Recognises the database errors that have a meaning for clients, across both drivers
 * (better-sqlite3 error codes, PostgreSQL SQLSTATEs and Node socket errors).
 */
interface DriverError {
  code?: string;
  errno?: string;
  driverError?: DriverError;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as DriverError;
  return e.driverError?.code ?? e.code;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/** The database cannot be reached right now: clients get 503 and may retry. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const raw = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  const message = typeof raw === 'string' ? raw : '';
  return /Connection terminated|connection timeout|The database connection is not open|Driver not Connected/i.test(
    message,
  );
}
