import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, isUniqueViolation } from './database-errors';

/** An error as node-postgres or Node's socket layer raises it: a message and maybe a code. */
function driverError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('isDatabaseUnavailable', () => {
  it.each<[string, Error]>([
    // node-postgres and pg-pool, word for word.
    ['a socket closed under a query', driverError('Connection terminated unexpectedly')],
    ['a client ended meanwhile', driverError('Connection terminated')],
    ['a connection that timed out while opening', driverError('Connection terminated due to connection timeout')],
    ['no pool connection within connectionTimeoutMillis', driverError('timeout exceeded when trying to connect')],
    ['no reply within query_timeout', driverError('Query read timeout')],
    ['a client broken earlier', driverError('Client has encountered a connection error and is not queryable')],
    ['a client closed earlier', driverError('Client was closed and is not queryable')],
    ['a pool ended at shutdown', driverError('Cannot use a pool after calling end on the pool')],
    // Node's socket errors.
    ['the server is not listening', driverError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['the peer reset the connection', driverError('read ECONNRESET', 'ECONNRESET')],
    ['a write to a closed socket', driverError('write EPIPE', 'EPIPE')],
    ['no route to the host', driverError('connect EHOSTUNREACH 10.0.0.9:5432', 'EHOSTUNREACH')],
    ['a DNS failure', driverError('getaddrinfo EAI_AGAIN db', 'EAI_AGAIN')],
    // PostgreSQL SQLSTATEs.
    ['an administrator shutdown', driverError('terminating connection due to administrator command', '57P01')],
    ['a crash shutdown', driverError('terminating connection because of crash of another server process', '57P02')],
    ['a server starting up', driverError('the database system is starting up', '57P03')],
    ['statement_timeout', driverError('canceling statement due to statement timeout', '57014')],
    ['too many connections', driverError('sorry, too many clients already', '53300')],
    ['a connection exception', driverError('connection failure', '08006')],
    ['a write on a standby', driverError('cannot execute INSERT in a read-only transaction', '25006')],
    // better-sqlite3 and TypeORM.
    ['a closed SQLite database', driverError('The database connection is not open')],
    ['a busy SQLite database', driverError('database is locked', 'SQLITE_BUSY')],
  ])('503 for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    // TypeORM wraps a failed query's driver error, keeping its code and message.
    expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], error))).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a unique violation', driverError('duplicate key value violates unique constraint', '23505')],
    ['a syntax error (a bug)', driverError('syntax error at or near "SELEC"', '42601')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a message that merely mentions a timeout', new Error('the session timeout is 3600 s')],
    ['not an error at all', 'Connection terminated'],
    ['nothing', undefined],
  ])('not for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('tells a unique violation on either database', () => {
    expect(isUniqueViolation(driverError('duplicate key', '23505'))).toBe(true);
    expect(isUniqueViolation(driverError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(isUniqueViolation(driverError('Connection terminated'))).toBe(false);
  });
});
