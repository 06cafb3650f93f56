import Database from 'better-sqlite3';
import * as bcrypt from 'bcrypt';
import { createHmac, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { BenchDatabase } from './db';

/** The password of every seeded user. */
export const LOGIN_PASSWORD = 'bench password 1';

/** What to put in one database. */
export interface SeedSpec {
  /** Rows in `sessions`, all active, expiring a day from now. */
  sessions: number;
  /** Users owning those sessions, round-robin (session k belongs to user k mod sessionUsers). */
  sessionUsers: number;
  /**
   * Users with no seeded session, for POST /login: a login past MAX_SESSIONS_PER_USER ends that
   * user's oldest session, so logins must never be for the users whose cookies the other routes use.
   */
  loginUsers: number;
  chatMessages: number;
  /** Raw tokens kept in memory as cookies, each of a different user, spread over the table. */
  keepTokens: number;
}

export interface Seeded {
  spec: SeedSpec;
  /** Raw session tokens (cookie values), one per user, in user order. */
  tokens: string[];
  loginEmails: string[];
  users: number;
  seconds: number;
  /** A stored token hash that exists, for the query plans. */
  sampleTokenHash: string;
}

let hashOnce: Promise<string> | undefined;

/**
 * ONE bcrypt hash at the server's default cost (12), reused for every user: computing a million
 * would take days, and the server cannot tell the difference.
 */
export function passwordHash(): Promise<string> {
  hashOnce ??= bcrypt.hash(LOGIN_PASSWORD, 12);
  return hashOnce;
}

/** Exactly as src/sessions/session-token.ts: 32 random bytes, base64url (43 characters). */
function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

function hashToken(token: string, secretKey: string): string {
  return createHmac('sha256', secretKey).update(token).digest('hex');
}

/**
 * How each database wants times and booleans. SQLite: TypeORM writes `datetime` columns as UTC
 * text 'YYYY-MM-DD HH:MM:SS.mmm' and booleans as 0/1 (read off rows the server wrote). PostgreSQL:
 * the server hands pg Date objects for `timestamp` columns, so the seeder does the same and pg
 * serialises them identically.
 */
interface Dialect {
  time(date: Date): unknown;
  yes: unknown;
}
const SQLITE: Dialect = { time: (d) => d.toISOString().replace('T', ' ').replace('Z', ''), yes: 1 };
const POSTGRES: Dialect = { time: (d) => d, yes: true };

const sessionUserEmail = (i: number) => `bench-user-${i}@example.com`;
const loginUserEmail = (i: number) => `bench-login-${i}@example.com`;

/** Rows as column lists; generators, so a million sessions never sit in memory at once. */
class Rows {
  readonly now = new Date();
  readonly tokens: string[];
  sampleTokenHash = '';
  private readonly keep: Map<number, number>;
  private readonly sessionUsers: number;

  constructor(
    private readonly spec: SeedSpec,
    private readonly dialect: Dialect,
    private readonly secretKey: string,
    private readonly hash: string,
  ) {
    this.sessionUsers = Math.max(1, Math.min(spec.sessionUsers, spec.sessions));
    // Kept session j: user floor(j * users / keep) (distinct users), and its (j mod perUser)-th
    // session, so the kept rows are spread over the whole table rather than its first pages.
    const keep = Math.min(spec.keepTokens, this.sessionUsers);
    const perUser = Math.max(1, Math.floor(spec.sessions / this.sessionUsers));
    this.keep = new Map();
    for (let j = 0; j < keep; j++) {
      const user = Math.floor((j * this.sessionUsers) / keep);
      this.keep.set((j % perUser) * this.sessionUsers + user, j);
    }
    this.tokens = new Array<string>(keep);
  }

  get userCount(): number {
    return this.sessionUsers + this.spec.loginUsers;
  }

  get loginEmails(): string[] {
    return Array.from({ length: this.spec.loginUsers }, (_, i) => loginUserEmail(i + 1));
  }

  /** id, name, phone, email, password_hash, created_at, is_active */
  *users(): Generator<unknown[]> {
    const created = this.dialect.time(this.now);
    for (let i = 1; i <= this.sessionUsers; i++) {
      yield [i, `Bench User ${i}`, '+1 555 0100', sessionUserEmail(i), this.hash, created, this.dialect.yes];
    }
    for (let i = 1; i <= this.spec.loginUsers; i++) {
      yield [
        this.sessionUsers + i,
        `Bench Login ${i}`,
        '+1 555 0101',
        loginUserEmail(i),
        this.hash,
        created,
        this.dialect.yes,
      ];
    }
  }

  /** user_id, token_hash, ip_address, user_agent, login_time, last_activity, is_active, expires_at, auth_time */
  *sessions(): Generator<unknown[]> {
    const now = this.dialect.time(this.now);
    const expires = this.dialect.time(new Date(this.now.getTime() + 86_400_000));
    let pool = Buffer.alloc(0);
    for (let k = 0; k < this.spec.sessions; k++) {
      const kept = this.keep.get(k);
      let tokenHash: string;
      if (kept !== undefined) {
        const token = generateToken();
        tokenHash = hashToken(token, this.secretKey);
        this.tokens[kept] = token;
        this.sampleTokenHash ||= tokenHash;
      } else {
        // The HMAC of a token nobody keeps is, to the server, 32 random bytes; drawing those in
        // bulk saves the seeder a million HMACs.
        if (pool.length === 0) pool = randomBytes(32 * 4096);
        tokenHash = pool.subarray(0, 32).toString('hex');
        pool = pool.subarray(32);
      }
      yield [
        1 + (k % this.sessionUsers),
        tokenHash,
        '127.0.0.1',
        'session-bench/1.0',
        now,
        now,
        this.dialect.yes,
        expires,
        now,
      ];
    }
  }

  /** user_id, message, timestamp: one a second, oldest first, ending now. */
  *chat(): Generator<unknown[]> {
    const n = this.spec.chatMessages;
    for (let i = 0; i < n; i++) {
      const at = new Date(this.now.getTime() - (n - i) * 1000);
      yield [1 + (i % this.sessionUsers), `bench message ${i + 1}`, this.dialect.time(at)];
    }
  }
}

const USER_COLUMNS = ['id', 'name', 'phone', 'email', 'password_hash', 'created_at', 'is_active'];
const SESSION_COLUMNS = [
  'user_id',
  'token_hash',
  'ip_address',
  'user_agent',
  'login_time',
  'last_activity',
  'is_active',
  'expires_at',
  'auth_time',
];
const CHAT_COLUMNS = ['user_id', 'message', 'timestamp'];

function insertSql(table: string, columns: string[], rows: number, placeholder: (n: number) => string): string {
  const tuples: string[] = [];
  let n = 0;
  for (let r = 0; r < rows; r++) tuples.push(`(${columns.map(() => placeholder(++n)).join(', ')})`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`;
}

function finish(rows: Rows, spec: SeedSpec, started: number): Seeded {
  return {
    spec,
    tokens: rows.tokens,
    loginEmails: rows.loginEmails,
    users: rows.userCount,
    seconds: (Date.now() - started) / 1000,
    sampleTokenHash: rows.sampleTokenHash,
  };
}

/** SQLite: multi-row INSERTs of 500 rows (under SQLite's 32766 bound parameters), all in one transaction. */
function seedSqlite(file: string, spec: SeedSpec, secretKey: string, hash: string): Seeded {
  const started = Date.now();
  const rows = new Rows(spec, SQLITE, secretKey, hash);
  const db = new Database(file, { fileMustExist: true });
  // A page cache big enough for the token-hash index, so random inserts into it stay in memory.
  db.pragma('cache_size = -524288');
  try {
    const bulk = (table: string, columns: string[], source: Iterable<unknown[]>, batch = 500) => {
      const full = db.prepare(insertSql(table, columns, batch, () => '?'));
      let params: unknown[] = [];
      let count = 0;
      for (const row of source) {
        params.push(...row);
        if (++count === batch) {
          full.run(...params);
          params = [];
          count = 0;
        }
      }
      if (count > 0) db.prepare(insertSql(table, columns, count, () => '?')).run(...params);
    };
    db.transaction(() => {
      bulk('users', USER_COLUMNS, rows.users());
      bulk('sessions', SESSION_COLUMNS, rows.sessions());
      bulk('global_chat', CHAT_COLUMNS, rows.chat());
    })();
    // The migration left the file in WAL mode; fold the big WAL back in so the server starts clean.
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return finish(rows, spec, started);
}

/** PostgreSQL: multi-row INSERTs (under pg's 65535 bound parameters per statement) in one transaction. */
async function seedPostgres(url: string, spec: SeedSpec, secretKey: string, hash: string): Promise<Seeded> {
  const started = Date.now();
  const rows = new Rows(spec, POSTGRES, secretKey, hash);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const bulk = async (table: string, columns: string[], source: Iterable<unknown[]>) => {
      const batch = Math.floor(60_000 / columns.length);
      const full = insertSql(table, columns, batch, (n) => `$${n}`);
      let params: unknown[] = [];
      let count = 0;
      for (const row of source) {
        params.push(...row);
        if (++count === batch) {
          await client.query(full, params);
          params = [];
          count = 0;
        }
      }
      if (count > 0)
        await client.query(
          insertSql(table, columns, count, (n) => `$${n}`),
          params,
        );
    };
    await client.query('BEGIN');
    await bulk('users', USER_COLUMNS, rows.users());
    await bulk('sessions', SESSION_COLUMNS, rows.sessions());
    await bulk('global_chat', CHAT_COLUMNS, rows.chat());
    // Users were given explicit ids; move their sequence past them (sessions and chat used theirs).
    await client.query(`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))`);
    await client.query('COMMIT');
    // Statistics and the visibility map now, rather than autovacuum waking up mid-measurement.
    await client.query('VACUUM ANALYZE users, sessions, global_chat');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  return finish(rows, spec, started);
}

export async function seed(db: BenchDatabase, spec: SeedSpec, secretKey: string): Promise<Seeded> {
  const hash = await passwordHash();
  if (db.kind === 'sqlite') return seedSqlite(db.file!, spec, secretKey, hash);
  return seedPostgres(db.pgUrl!, spec, secretKey, hash);
}

/**
 * The plan of the guard's lookup (one session by token hash, joined to its user), which must be
 * an index search on uq_sessions_token_hash whatever the table's size.
 */
const GUARD_LOOKUP =
  'SELECT s.id, s.user_id, s.ip_address, s.user_agent, s.login_time, s.last_activity, s.logout_time, s.is_active, s.expires_at, s.end_reason, ' +
  's.remember_me, s.device_browser, s.device_os, s.device_type, s.country, s.new_device, s.auth_time, ' +
  'u.id, u.name, u.phone, u.email, u.created_at, u.last_login, u.is_active, u.is_admin FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ';

export interface QueryPlan {
  sql: string;
  lines: string[];
  usesIndex: boolean;
}

export async function queryPlan(db: BenchDatabase, tokenHash: string): Promise<QueryPlan> {
  if (!/^[0-9a-f]{64}$/.test(tokenHash)) throw new Error('query plan: not a token hash');
  if (db.kind === 'sqlite') {
    const sql = `EXPLAIN QUERY PLAN ${GUARD_LOOKUP}?`;
    const conn = new Database(db.file!, { readonly: true, fileMustExist: true });
    try {
      const lines = (conn.prepare(sql).all(tokenHash) as Array<{ detail: string }>).map((row) => row.detail);
      const usesIndex =
        lines.some((l) => l.includes('uq_sessions_token_hash')) && !lines.some((l) => /^SCAN (s|sessions)\b/.test(l));
      return { sql, lines, usesIndex };
    } finally {
      conn.close();
    }
  }
  // The hash is checked hex above, so inlining it is safe; EXPLAIN then plans for that value.
  const sql = `EXPLAIN ${GUARD_LOOKUP}'${tokenHash}'`;
  const client = new Client({ connectionString: db.pgUrl! });
  await client.connect();
  try {
    const lines = (await client.query<{ 'QUERY PLAN': string }>(sql)).rows.map((row) => row['QUERY PLAN']);
    const usesIndex =
      lines.some((l) => /Index (Only )?Scan using uq_sessions_token_hash/.test(l)) &&
      !lines.some((l) => /Seq Scan on sessions/.test(l));
    return { sql: `EXPLAIN ${GUARD_LOOKUP}$1`, lines, usesIndex };
  } finally {
    await client.end();
  }
}
