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
  // The network: the server is down, restarting, unreachable or gone mid-conversation.
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  '57014', // query_canceled: statement_timeout (DATABASE_TIMEOUT_MS) ran out
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '25006', // read_only_sql_transaction: a write reached a standby (a failover in progress)
]);

/**
 * node-postgres and pg-pool report a lost or silent server with plain Errors (no code): a socket
 * closed under a query, a reply that never came (query_timeout), no connection within
 * connectionTimeoutMillis, a client or pool already broken or ended. better-sqlite3 and TypeORM
 * have their own for a closed database.
 */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)|connection timeout|The database connection is not open|Driver not Connected/i;

/**
 * The database cannot be reached or cannot take the work right now: clients get 503 and may retry.
 * SQLSTATE classes 08 (connection exception) and 53 (insufficient resources: too many
 * connections, out of memory, disk full) count whole.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code && (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('53'))) return true;
  const raw = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof raw === 'string' && UNAVAILABLE_MESSAGE.test(raw);
}
