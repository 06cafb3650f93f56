import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { User } from '../users/user.entity';
import { Session } from './session.entity';

type Row = Record<string, unknown>;

/** The part of better-sqlite3 used here (TypeORM holds the connection as `databaseConnection`). */
interface Statement {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
  raw(toggle: boolean): Statement;
}
interface SqliteConnection {
  prepare(sql: string): Statement;
}

/**
 * The columns an entity is read with, from its metadata: every column TypeORM itself would select
 * (so the `select: false` secrets, the token and password hashes, are left out), never a hand-kept
 * list that a new column would silently miss. A column this plain hydration cannot set (an embedded
 * one, or a relation's join column without a property of its own) stops the server at start.
 */
export function selectedColumns(metadata: EntityMetadata): ColumnMetadata[] {
  return metadata.columns
    .filter((column) => column.isSelect && !column.isVirtual && !column.isVirtualProperty)
    .map((column) => {
      const plain = !column.embeddedMetadata && column.propertyName !== column.relationMetadata?.propertyName;
      if (!plain) throw new Error(`SessionLookup cannot read ${metadata.name}.${column.propertyPath}`);
      return column;
    });
}

/**
 * The session guard's database work, on every request: one indexed read (the unique index on
 * `token_hash`, then the users primary key) and, at most once a minute per session, one write.
 * Plain SQL instead of TypeORM's query builder, which builds the SQL and maps the rows anew on each
 * call and cost more than the read itself; the SQL is built once from the entities' metadata, and on
 * SQLite the statements are prepared once. Values are converted by TypeORM's own driver functions,
 * so dates and booleans come back exactly as the entities would have them. Used only by
 * SessionsRepository; every other query goes through TypeORM.
 */
@Injectable()
export class SessionLookup {
  private readonly sqlite: boolean;
  private readonly selectSql: string;
  private readonly touchSql: string;
  private select?: Statement;
  private touchStatement?: Statement;
  private preparedOn?: SqliteConnection;
  private readonly sessionColumns: ColumnMetadata[];
  private readonly userColumns: ColumnMetadata[];
  private readonly lastActivity: ColumnMetadata;
  private readonly isActive: ColumnMetadata;

  constructor(private readonly dataSource: DataSource) {
    this.sqlite = dataSource.options.type === 'better-sqlite3';
    const sessions = dataSource.getMetadata(Session);
    const users = dataSource.getMetadata(User);
    this.sessionColumns = selectedColumns(sessions);
    this.userColumns = selectedColumns(users);
    // Names unquoted, as in the rest of the hand-written SQL (every table and column is snake_case).
    const list = (alias: string, columns: ColumnMetadata[]) =>
      columns.map((c) => `${alias}.${c.databaseName} AS ${alias}_${c.databaseName}`);
    const column = (property: string) => sessions.findColumnWithPropertyName(property)!;
    const [tokenHash, userId, id] = [column('tokenHash'), column('userId'), column('id')];
    this.lastActivity = column('lastActivity');
    this.isActive = column('isActive');
    const placeholder = (n: number) => (this.sqlite ? '?' : `$${n}`);
    this.selectSql =
      `SELECT ${[...list('s', this.sessionColumns), ...list('u', this.userColumns)].join(', ')} ` +
      `FROM ${sessions.tableName} s INNER JOIN ${users.tableName} u ` +
      `ON u.${users.primaryColumns[0].databaseName} = s.${userId.databaseName} ` +
      `WHERE s.${tokenHash.databaseName} = ${placeholder(1)}`;
    this.touchSql =
      `UPDATE ${sessions.tableName} SET ${this.lastActivity.databaseName} = ${placeholder(1)} ` +
      `WHERE ${id.databaseName} = ${placeholder(2)} AND ${this.isActive.databaseName} = ${placeholder(3)}`;
  }

  /**
   * The session whose token hashes to `tokenHash`, with its user; undefined if there is none.
   * Always read on the primary (dataSource.query takes a 'master' query runner), never on a read
   * replica: a session ended a moment ago must be refused at once.
   */
  async byTokenHash(tokenHash: string): Promise<{ session: Session; user: User } | undefined> {
    if (this.sqlite) {
      // Rows as arrays (better-sqlite3's raw mode), in the select list's order: 40 % less time in
      // the driver than a row object with 26 named keys (docs/PERFORMANCE.md).
      const values = this.prepared().select.get(tokenHash) as unknown[] | undefined;
      if (!values) return undefined;
      const session = this.hydrate(new Session(), this.sessionColumns, (c, i) => values[i]);
      const offset = this.sessionColumns.length;
      const user = this.hydrate(new User(), this.userColumns, (c, i) => values[offset + i]);
      return { session, user };
    }
    const row = (await this.dataSource.query<Row[]>(this.selectSql, [tokenHash]))[0];
    if (!row) return undefined;
    const session = this.hydrate(new Session(), this.sessionColumns, (c) => row[`s_${c.databaseName}`]);
    const user = this.hydrate(new User(), this.userColumns, (c) => row[`u_${c.databaseName}`]);
    return { session, user };
  }

  /** Records activity on a session that is still active. */
  async touch(sessionId: number, now: Date): Promise<void> {
    const driver = this.dataSource.driver;
    const at = driver.preparePersistentValue(now, this.lastActivity) as unknown;
    const active = driver.preparePersistentValue(true, this.isActive) as unknown;
    if (this.sqlite) this.prepared().touch.run(at, sessionId, active);
    else await this.dataSource.query(this.touchSql, [at, sessionId, active]);
  }

  /** The statements, prepared on the current connection (again, if TypeORM has opened a new one). */
  private prepared(): { select: Statement; touch: Statement } {
    const connection = (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection })
      .databaseConnection;
    if (connection !== this.preparedOn) {
      this.select = connection.prepare(this.selectSql).raw(true);
      this.touchStatement = connection.prepare(this.touchSql);
      this.preparedOn = connection;
    }
    return { select: this.select!, touch: this.touchStatement! };
  }

  private hydrate<T extends object>(
    target: T,
    columns: ColumnMetadata[],
    valueOf: (column: ColumnMetadata, index: number) => unknown,
  ): T {
    const driver = this.dataSource.driver;
    const values = target as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++)
      values[columns[i].propertyName] = driver.prepareHydratedValue(valueOf(columns[i], i), columns[i]);
    return target;
  }
}
