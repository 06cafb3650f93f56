import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup } from './cleanup';
import { REPO, freePort, sleep, tail } from './util';

/** A server the bench started, in its own process, so its CPU and memory can be read from /proc. */
export interface RunningServer {
  name: string;
  pid: number;
  port: number;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

/** 48 characters, fixed, so that a run is repeatable; only ever used on this bench's databases. */
export const BENCH_SECRET_KEY = 'bench-secret-key-not-for-production-0123456789ab';

interface StartOptions {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  port: number;
  healthPath: string;
  timeoutMs?: number;
}

async function start(options: StartOptions): Promise<RunningServer> {
  const fd = openSync(options.logFile, 'a');
  // process.execPath is this very node; no npm or shell in between, so child.pid is the server.
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited: string | undefined;
  const gone = new Promise<void>((done) => {
    child.on('exit', (code, signal) => {
      exited = signal ?? `exit ${code}`;
      done();
    });
  });
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (!exited) {
      child.kill('SIGKILL');
      await gone;
    }
  };
  onCleanup(`stop ${options.name}`, stop);
  if (child.pid === undefined) throw new Error(`${options.name} did not start`);

  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exited)
      throw new Error(
        `${options.name} exited (${exited}) before answering; log ${options.logFile}:\n${tail(options.logFile)}`,
      );
    try {
      const res = await fetch(url + options.healthPath, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200)
        return { name: options.name, pid: child.pid, port: options.port, url, logFile: options.logFile, stop };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(
    `${options.name} did not answer ${options.healthPath} with 200 within ${(options.timeoutMs ?? 30_000) / 1000} s; log ${options.logFile}:\n${tail(options.logFile)}`,
  );
}

/**
 * The built server (dist/src/main.js), configured so that only the code is measured: no request
 * log lines (LOG_LEVEL=warn), no throttling of the bench's own logins, no cleanup job, schema
 * already migrated. Its working directory is the temp folder, so a developer's .env in the
 * repository cannot change what is measured.
 */
export async function startOurServer(
  name: string,
  databaseUrl: string,
  tmpDir: string,
  extraNodeFlags: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<RunningServer> {
  return startBuilt(name, [...extraNodeFlags, join(REPO, 'dist', 'src', 'main.js')], databaseUrl, tmpDir, extraEnv);
}

/**
 * Another build of the server (`--baseline DIR`: a copy of an earlier dist/, kept inside the
 * repository so that it finds node_modules), on the same database: before and after a change,
 * measured in the same rounds.
 */
export async function startBaseline(distDir: string, databaseUrl: string, tmpDir: string): Promise<RunningServer> {
  return startBuilt('baseline', [join(distDir, 'src', 'main.js')], databaseUrl, tmpDir);
}

/**
 * The built AppModule on Express or on Fastify with nothing around it but cookies
 * (bench/probe/platform.js): what the HTTP platform itself costs, for `npm run bench:platforms`.
 */
export async function startProbe(
  platform: 'express' | 'fastify' | 'fastify-bare',
  databaseUrl: string,
  tmpDir: string,
): Promise<RunningServer> {
  return startBuilt(`probe-${platform}`, [join(REPO, 'bench', 'probe', 'platform.js'), platform], databaseUrl, tmpDir);
}

async function startBuilt(
  name: string,
  script: string[],
  databaseUrl: string,
  tmpDir: string,
  extraEnv: Record<string, string> = {},
): Promise<RunningServer> {
  const port = await freePort();
  return start({
    name,
    args: [...serverNodeFlags(), ...script],
    cwd: tmpDir,
    logFile: join(tmpDir, `${name}.log`),
    port,
    healthPath: '/health',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // Same zone as the seeder: on PostgreSQL, pg writes Dates to `timestamp` columns in local time.
      TZ: process.env.TZ,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      SECRET_KEY: BENCH_SECRET_KEY,
      NODE_ENV: 'production',
      SESSION_COOKIE_SECURE: 'false',
      LOG_LEVEL: 'warn',
      AUTH_RATE_LIMIT: '1000000',
      LOGIN_LIMIT_ACCOUNT_ADDRESS: '1000000',
      LOGIN_LIMIT_ADDRESS: '1000000',
      LOGIN_LIMIT_ACCOUNT: '1000000',
      // Nor the chat's per-session send limit (POST /global_chat runs 50 sessions flat out).
      CHAT_RATE_LIMIT: '1000000',
      MIGRATIONS_RUN: 'false',
      CLEANUP_INTERVAL_MINUTES: '0',
      ...extraEnv,
    },
  });
}

/**
 * The node flags the server is deployed with: those of `npm run start:prod` (the heap limit), read
 * from package.json so the bench measures exactly what is deployed.
 */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const match = /^node\s+(.*?)\s*dist\/src\/main\.js$/.exec(pkg.scripts['start:prod']);
  if (!match) throw new Error('package.json start:prod is not "node [flags] dist/src/main.js"');
  return match[1].split(/\s+/).filter(Boolean);
}

/** The peers, each a small program of its own in bench/peers/, on its own SQLite file. */
export const PEERS = {
  express: { name: 'peer', script: 'express-session.ts', label: 'express-session' },
  fastify: { name: 'fastify-peer', script: 'fastify-session.ts', label: '@fastify/session' },
} as const;
export type PeerKind = keyof typeof PEERS;

/** A peer (bench/peers/), on its own SQLite file in the temp folder. */
export async function startPeer(kind: PeerKind, tmpDir: string): Promise<RunningServer> {
  const peer = PEERS[kind];
  const port = await freePort();
  return start({
    name: peer.name,
    args: ['--import', 'tsx', join(REPO, 'bench', 'peers', peer.script)],
    cwd: REPO,
    logFile: join(tmpDir, `${peer.name}.log`),
    port,
    healthPath: '/health',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TZ: process.env.TZ,
      NODE_ENV: 'production',
      PORT: String(port),
      PEER_DB: join(tmpDir, `${peer.name}-sessions.db`),
    },
  });
}
