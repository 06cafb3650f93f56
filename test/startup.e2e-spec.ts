import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrations } from '../migrations';
import { BUILT_MAIN, buildServer, freePort, startServer, type ServerProcess } from './utils/server-process';
import { createScratchDatabase, TEST_POSTGRES_URL } from './utils/postgres';
import { TEST_SECRET } from './utils/test-app';

/**
 * Every start-up failure is printed (issue 17): the built server, run with node as in production,
 * that cannot start exits non-zero with a message saying why on its output, instead of exiting 1
 * printing nothing. One that starts says so in one line (issue 19): address, database, migrations.
 */
describe('Start-up: failures are printed, a start is one line (the built server)', () => {
  let dir: string;

  beforeAll(async () => {
    await buildServer();
    dir = mkdtempSync(join(tmpdir(), 'startup-'));
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the server until it exits (it must, within 30 s), with exactly `env` (and a free PORT). */
  async function runUntilExit(
    env: Record<string, string>,
  ): Promise<{ code: number | null; stderr: string; all: string }> {
    const port = String(await freePort());
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BUILT_MAIN], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', PORT: port, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let all = '';
      child.stdout.on('data', (chunk: Buffer) => (all += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        all += chunk.toString('utf8');
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the server did not exit; its output:\n${all}`));
      }, 30_000);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr, all });
      });
    });
  }

  it('MIGRATIONS_RUN=false on an empty SQLite database: exits 1 saying the schema is missing and what to do', async () => {
    const result = await runUntilExit({
      DATABASE_URL: `sqlite:///${join(dir, 'empty.db')}`,
      MIGRATIONS_RUN: 'false',
      SECRET_KEY: TEST_SECRET,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Start-up failed: the database has no schema');
    expect(result.stderr).toContain('npm run migration:run');
    expect(result.stderr).toContain('MIGRATIONS_RUN=true');
    // The operator's mistake gets its message, not a stack trace.
    expect(result.stderr).not.toMatch(/Start-up failed:[^\n]*\n\s+at /);
  }, 60_000);

  it('MIGRATIONS_RUN=false on a database migrated before starts as usual', async () => {
    const databaseUrl = `sqlite:///${join(dir, 'migrated.db')}`;
    const first = await startServer('migrates', { DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET });
    await first.stop();
    const second = await startServer('uses', {
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'false',
      SECRET_KEY: TEST_SECRET,
    });
    try {
      expect((await fetch(`${second.url}/health`)).status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 90_000);

  const adminUrl = TEST_POSTGRES_URL;
  if (adminUrl) {
    it('MIGRATIONS_RUN=false on an empty PostgreSQL database: exits 1 saying the schema is missing', async () => {
      const db = await createScratchDatabase(adminUrl, 'startup');
      try {
        const result = await runUntilExit({ DATABASE_URL: db.url, MIGRATIONS_RUN: 'false', SECRET_KEY: TEST_SECRET });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('Start-up failed: the database has no schema');
      } finally {
        await db.drop();
      }
    }, 60_000);
  }

  /** The JSON lines a server wrote so far (standard output is a pipe here: JSON even in development). */
  const jsonLines = (server: ServerProcess) =>
    server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const startupLine = (server: ServerProcess) => jsonLines(server).find((line) => line.event === 'started');

  it('says, in one line, where it listens, the database and the migrations this start applied; no framework chatter', async () => {
    const file = join(dir, 'startup-line.db');
    const databaseUrl = `sqlite:///${file}`;
    const first = await startServer('first', { DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET });
    await first.stop();
    const second = await startServer('second', { DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET });
    await second.stop();

    const names = migrations.map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    expect(startupLine(first)).toMatchObject({
      level: 'info',
      context: 'Bootstrap',
      addresses: [expect.stringMatching(new RegExp(`^(\\[::\\]|0\\.0\\.0\\.0):${first.port}$`))],
      database: `SQLite ${file}`,
      migrations_applied: names,
    });
    expect(startupLine(first)?.msg).toBe(
      `Listening on http://localhost:${first.port} (every interface, ${(startupLine(first)?.addresses as string[])[0]}; docs at /docs); ` +
        `database: SQLite ${file}; migrations applied: ${names.join(', ')}`,
    );
    expect(startupLine(second)).toMatchObject({ migrations_applied: [], database: `SQLite ${file}` });
    expect(startupLine(second)?.msg).toMatch(/; migrations: none pending$/);
    // Nest's line per module and per route is at debug: at the default level, the start-up is a few lines.
    for (const server of [first, second]) {
      const lines = jsonLines(server);
      expect(
        lines.filter((l) => /^(InstanceLoader|RoutesResolver|RouterExplorer|NestFactory)$/.test(String(l.context))),
      ).toEqual([]);
      expect(lines.length).toBeLessThan(10);
    }
  }, 90_000);

  if (adminUrl) {
    it('on PostgreSQL: names the host, port and database, never the password (nor the user or the query string)', async () => {
      const db = await createScratchDatabase(adminUrl, 'startup');
      const url = new URL(db.url);
      // The server's password if it has one, otherwise one it ignores (trust authentication).
      url.password ||= 'start-up-line-secret';
      url.search = '?application_name=startup-spec';
      const password = decodeURIComponent(url.password);
      const server = await startServer('postgres', { DATABASE_URL: url.toString(), SECRET_KEY: TEST_SECRET });
      try {
        await server.stop();
        expect(startupLine(server)).toMatchObject({
          database: `PostgreSQL ${url.hostname}:${url.port || '5432'}${url.pathname}`,
          migrations_applied: migrations.map((m) => m.name),
        });
        expect(server.output()).not.toContain(password);
        expect(String(startupLine(server)?.msg)).not.toMatch(/startup-spec|@/);
      } finally {
        await db.drop();
      }
    }, 60_000);
  }

  it('a bad environment variable: exits 1 naming the variable', async () => {
    const result = await runUntilExit({
      DATABASE_URL: `sqlite:///${join(dir, 'config.db')}`,
      SECRET_KEY: TEST_SECRET,
      BCRYPT_ROUNDS: 'many',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Start-up failed: Invalid configuration: .*BCRYPT_ROUNDS/);
  }, 60_000);

  it('a failure after the app is built (the port is taken): exits 1 with the reason', async () => {
    const holder = await startServer('holder', {
      DATABASE_URL: `sqlite:///${join(dir, 'holder.db')}`,
      SECRET_KEY: TEST_SECRET,
    });
    try {
      const result = await runUntilExit({
        DATABASE_URL: `sqlite:///${join(dir, 'second.db')}`,
        SECRET_KEY: TEST_SECRET,
        PORT: String(holder.port),
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Start-up failed: Error: listen EADDRINUSE');
    } finally {
      await holder.stop();
    }
  }, 90_000);
});
