import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { User } from '../users/user.entity';
import { Session } from './session.entity';

const SESSION_COLUMNS = [
  'id',
  'user_id',
  'ip_address',
  'user_agent',
  'login_time',
  'last_activity',
  'logout_time',
  'is_active',
  'expires_at',
  'end_reason',
  'remember_me',
  'device_browser',
  'device_os',
  'device_type',
  'country',
  'new_device',
  'auth_time',
  'credential_version',
];
const USER_COLUMNS = [
  'id',
  'name',
  'phone',
  'email',
  'created_at',
  'last_login',
  'is_active',
  'is_admin',
  'credential_version',
];

const SELECT =
  `SELECT ${SESSION_COLUMNS.map((c) => `s.${c} AS s_${c}`).join(', ')}, ${USER_COLUMNS.map((c) => `u.${c} AS u_${c}`).join(', ')} ` +
  'FROM sessions s INNER JOIN users u ON u.id = s.user_id WHERE s.token_hash = ';
const TOUCH = 'UPDATE sessions SET last_activity = ';

type Row = Record<string, unknown>;

/** The part of better-sqlite3 used here (TypeORM holds the connection as `databaseConnection`). */
interface Statement {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
}
interface SqliteConnection {
  prepare(sql: string): Statement;
}

/**
 * The session guard's database work, on every request: one indexed read (the unique index on
 * `token_hash`, then the users primary key) and, at most once a minute per session, one write.
 * Plain SQL instead of TypeORM's query builder, which builds the SQL and maps the rows anew on each
 * call and cost more than the read itself; on SQLite the statements are prepared once. Values are
 * converted by TypeORM's own driver functions, so dates and booleans come back exactly as the
 * entities would have them. Every other query keeps going through TypeORM.
 */
@Injectable()
export class SessionLookup {
  private readonly sqlite: boolean;
  private select?: Statement;
  private touchStatement?: Statement;
  private preparedOn?: SqliteConnection;
  private readonly sessionColumns: Array<[keyof Session, ColumnMetadata]>;
  private readonly userColumns: Array<[keyof User, ColumnMetadata]>;
  private readonly lastActivity: ColumnMetadata;
  private readonly isActive: ColumnMetadata;

  constructor(private readonly dataSource: DataSource) {
    this.sqlite = dataSource.options.type === 'better-sqlite3';
    const columns = <T>(entity: new () => T, names: string[]) =>
      names.map((name) => {
        const column = dataSource.getMetadata(entity).findColumnWithDatabaseName(name);
        if (!column) throw new Error(`no column ${name}`);
        return [column.propertyName as keyof T, column] as [keyof T, ColumnMetadata];
      });
    this.sessionColumns = columns(Session, SESSION_COLUMNS);
    this.userColumns = columns(User, USER_COLUMNS);
    this.lastActivity = this.sessionColumns.find(([p]) => p === 'lastActivity')![1];
    this.isActive = this.sessionColumns.find(([p]) => p === 'isActive')![1];
  }

  /**
   * The session whose token hashes to `tokenHash`, with its user; undefined if there is none.
   * Always read on the primary (dataSource.query takes a 'master' query runner), never on a read
   * replica: a session ended a moment ago must be refused at once.
   */
  async byTokenHash(tokenHash: string): Promise<{ session: Session; user: User } | undefined> {
    const row = this.sqlite
      ? (this.sqliteSelect().get(tokenHash) as Row | undefined)
      : (await this.dataSource.query<Row[]>(`${SELECT}$1`, [tokenHash]))[0];
    if (!row) return undefined;
    const session = this.hydrate(new Session(), 's_', this.sessionColumns, row);
    const user = this.hydrate(new User(), 'u_', this.userColumns, row);
    return { session, user };
  }

  /** Records activity on a session that is still active. */
  async touch(sessionId: number, now: Date): Promise<void> {
    const driver = this.dataSource.driver;
    const at = driver.preparePersistentValue(now, this.lastActivity) as unknown;
    const active = driver.preparePersistentValue(true, this.isActive) as unknown;
    if (this.sqlite) {
      this.prepareOnce();
      this.touchStatement!.run(at, sessionId, active);
      return;
    }
    await this.dataSource.query(`${TOUCH}$1 WHERE id = $2 AND is_active = $3`, [at, sessionId, active]);
  }

  private sqliteSelect(): Statement {
    this.prepareOnce();
    return this.select!;
  }

  /** Prepares the statements on the current connection (again, if TypeORM has opened a new one). */
  private prepareOnce(): void {
    const connection = (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection })
      .databaseConnection;
    if (connection === this.preparedOn) return;
    this.select = connection.prepare(`${SELECT}?`);
    this.touchStatement = connection.prepare(`${TOUCH}? WHERE id = ? AND is_active = ?`);
    this.preparedOn = connection;
  }

  private hydrate<T extends object>(target: T, prefix: string, columns: Array<[keyof T, ColumnMetadata]>, row: Row): T {
    const driver = this.dataSource.driver;
    for (const [property, column] of columns) {
      target[property] = driver.prepareHydratedValue(row[`${prefix}${column.databaseName}`], column) as T[keyof T];
    }
    return target;
  }
}
