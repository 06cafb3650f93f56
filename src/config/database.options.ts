import { isAbsolute, resolve } from 'node:path';
import { DataSource, EntityManager, MigrationExecutor, type DataSourceOptions, type QueryRunner } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import type { AppConfig } from './app.config';

/**
 * What the schema is made of, given by the caller: config knows no feature. The app registers each
 * entity with its module (`TypeOrmModule.forFeature`, loaded with `autoLoadEntities`) and passes the
 * migrations; the CLI (`ormconfig.ts`) and the scripts pass `src/entities.ts` and `migrations/index.ts`.
 * The migrations are required: options without them would start an empty database as if it were current.
 */
export interface SchemaParts {
  migrations: NonNullable<DataSourceOptions['migrations']>;
  entities?: DataSourceOptions['entities'];
}

/**
 * Where the data lives, from a SQLAlchemy-style DATABASE_URL as the original system used:
 * `sqlite:///relative.db` (relative to the working directory), `sqlite:////absolute/path.db`,
 * `sqlite:///:memory:`, or a `postgres://` / `postgresql://` URL.
 */
export function parseDatabaseUrl(
  url: string,
): { type: 'better-sqlite3'; database: string } | { type: 'postgres'; url: string } {
  if (url.startsWith('sqlite:///')) {
    const path = url.slice('sqlite:///'.length);
    if (path === ':memory:') return { type: 'better-sqlite3', database: ':memory:' };
    return { type: 'better-sqlite3', database: isAbsolute(path) ? path : resolve(process.cwd(), path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { type: 'postgres', url };
  throw new Error(`Unsupported DATABASE_URL scheme: ${url.split(':')[0]}`);
}

/**
 * node-postgres pool settings. Every wait is bounded by `timeoutMs`, so a database that stops
 * answering gives 503s (all-exceptions.filter.ts) rather than requests that hang: taking a
 * connection from the pool, a statement on the server (statement_timeout) and a reply on the
 * socket (query_timeout, for when the server or the network is gone). Keep-alive notices a dead
 * peer on idle connections, and a broken connection is thrown away, so the pool heals by itself
 * when the database returns.
 */
function postgresPool(max: number, timeoutMs: number): Record<string, unknown> {
  return {
    max,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  };
}

/** The one source of TypeORM options, used by the app and by `ormconfig.ts` (the CLI). */
export function buildDataSourceOptions(
  config: Pick<AppConfig, 'databaseUrl' | 'migrationsRun'> &
    Partial<Pick<AppConfig, 'databasePoolSize' | 'databaseReplicaUrl' | 'databaseTimeoutMs'>>,
  schema: SchemaParts,
): DataSourceOptions {
  const common = {
    entities: schema.entities,
    migrations: schema.migrations,
    migrationsRun: config.migrationsRun,
    // Schema changes go through reviewed migrations only.
    synchronize: false,
    logging: false,
  } as const;
  const target = parseDatabaseUrl(config.databaseUrl);
  if (target.type === 'better-sqlite3') {
    return {
      ...common,
      type: 'better-sqlite3',
      database: target.database,
      // WAL lets readers proceed while a writer commits; a file database only.
      enableWAL: target.database !== ':memory:',
      // Wait for a competing writer rather than failing at once with SQLITE_BUSY.
      timeout: 5000,
    };
  }
  const extra = postgresPool(config.databasePoolSize ?? 10, config.databaseTimeoutMs ?? 5000);
  if (!config.databaseReplicaUrl) return { ...common, type: 'postgres', url: target.url, extra };
  // With a replica, TypeORM keeps a pool for each (`extra` applies to both). defaultMode 'master':
  // a read goes to the primary unless it asks for the replica (common/database/replica.ts), so
  // nothing reads a lagging copy by accident; the guard's read and migrations use the primary too.
  return {
    ...common,
    type: 'postgres',
    replication: { master: { url: target.url }, slaves: [{ url: config.databaseReplicaUrl }], defaultMode: 'master' },
    extra,
  };
}

/**
 * The app's DataSource: TypeORM's, with two changes made where the metadata and the managers are built.
 *
 * - The entities' `Date` columns are typed `timestamptz` on PostgreSQL (migration
 *   TimestampWithTimeZone) and `datetime` on SQLite. An entity's decorators are read once for every
 *   database, and TypeORM maps `Date` to `timestamp` on PostgreSQL, so the type is set here, when the
 *   metadata is built for one database.
 * - On SQLite, transactions take turns. TypeORM keeps one connection (one query runner) for
 *   better-sqlite3 and turns a transaction started while another is open into a SAVEPOINT inside
 *   it: two requests' transactions then share one BEGIN, the first COMMIT commits the other's half
 *   work, and a ROLLBACK undoes both. SerialTransactions runs each top-level transaction after the
 *   previous one has ended, so each commits or rolls back alone. PostgreSQL gives every transaction
 *   a pooled connection of its own and is left as it is.
 */
export class AppDataSource extends DataSource {
  protected override async buildMetadatas(): Promise<void> {
    await super.buildMetadatas();
    if (this.options.type !== 'postgres') return;
    for (const entity of this.entityMetadatas)
      for (const column of entity.columns) if (column.type === Date) column.type = 'timestamptz';
  }

  override createEntityManager(queryRunner?: QueryRunner): EntityManager {
    // A manager bound to a query runner is the one a transaction hands its callback: left as is,
    // so work inside a transaction never waits for the transaction it is part of.
    if (this.options.type !== 'better-sqlite3' || queryRunner) return super.createEntityManager(queryRunner);
    return new SerialTransactions(this);
  }
}

/** The SQLite manager whose top-level transactions run one after another (see AppDataSource). */
class SerialTransactions extends EntityManager {
  /** Settles when the last transaction queued so far has ended (committed or rolled back). */
  private tail: Promise<unknown> = Promise.resolve();

  override transaction<T>(runInTransaction: (manager: EntityManager) => Promise<T>): Promise<T>;
  override transaction<T>(
    isolationLevel: IsolationLevel,
    runInTransaction: (manager: EntityManager) => Promise<T>,
  ): Promise<T>;
  override transaction<T>(
    first: IsolationLevel | ((manager: EntityManager) => Promise<T>),
    second?: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const run = () => (typeof first === 'function' ? super.transaction(first) : super.transaction(first, second!));
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The database's schema is not this version's (MIGRATIONS_RUN=false); retrying will not help. */
export class SchemaNotCurrentError extends Error {
  override name = 'SchemaNotCurrentError';
}

/**
 * Opens the app's DataSource. With MIGRATIONS_RUN=false the schema must already be this version's:
 * a database with migrations still to apply (an empty one has all of them) stops the server at
 * start with a message saying what to do, instead of starting and failing on its first query
 * (or, as it did, exiting on a missing table with nothing printed).
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  // The migrations are run here rather than by initialize() (what MIGRATIONS_RUN=true would have
  // TypeORM do, the same call) so that the start-up line can name the ones this start applied.
  const dataSource = await new AppDataSource({ ...options, migrationsRun: false }).initialize();
  if (options.migrationsRun) {
    try {
      const applied = await dataSource.runMigrations({ transaction: options.migrationsTransactionMode });
      appliedAtStart.set(
        dataSource,
        applied.map((m) => m.name),
      );
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
    return dataSource;
  }
  const pending = await new MigrationExecutor(dataSource).getPendingMigrations();
  appliedAtStart.set(dataSource, []);
  if (pending.length === 0) return dataSource;
  await dataSource.destroy();
  const all = dataSource.migrations.length;
  const what =
    pending.length === all
      ? 'the database has no schema (none of its migrations is applied)'
      : `the database schema is behind this version (${pending.length} of ${all} migrations not applied: ${pending.map((m) => m.name).join(', ')})`;
  throw new SchemaNotCurrentError(`${what}; run \`npm run migration:run\` or start with MIGRATIONS_RUN=true`);
}

const appliedAtStart = new WeakMap<DataSource, readonly string[]>();

/** The names of the migrations that opening this DataSource applied (none: the schema was current). */
export function migrationsAppliedAtStart(dataSource: DataSource): readonly string[] {
  return appliedAtStart.get(dataSource) ?? [];
}

/**
 * Where the data lives, for the start-up line: the kind and the file, or the host, port and
 * database (and the replica's), never the user, the password or the query string (which may
 * carry a password too). A URL that cannot be parsed is not shown at all.
 */
export function describeDatabase(config: Pick<AppConfig, 'databaseUrl' | 'databaseReplicaUrl'>): string {
  const target = parseDatabaseUrl(config.databaseUrl);
  if (target.type === 'better-sqlite3')
    return target.database === ':memory:' ? 'SQLite in memory' : `SQLite ${target.database}`;
  const primary = `PostgreSQL ${postgresPlace(target.url)}`;
  return config.databaseReplicaUrl ? `${primary}, replica ${postgresPlace(config.databaseReplicaUrl)}` : primary;
}

function postgresPlace(url: string): string {
  try {
    const { hostname, port, pathname } = new URL(url);
    const host = decodeURIComponent(hostname) || 'localhost';
    return `${host}:${port || '5432'}${pathname.length > 1 ? decodeURIComponent(pathname) : ''}`;
  } catch {
    return '(its URL is not shown)';
  }
}
