/**
 * What the bench asks of the servers besides the measured load: that the seeded sessions work,
 * cookies from the peer, which liveness route there is, and the login storm's own process.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { onCleanup } from './cleanup';
import { LOGIN_PASSWORD } from './seed';
import type { RunningServer } from './server';
import { REPO } from './util';

export interface StormResult {
  statusCounts: Record<string, number>;
  errors: number;
  seconds: number;
}

/** Fails the harness early when the seeded rows are not what the server expects (formats, hashes). */
export async function checkSeededSession(
  server: RunningServer,
  cookie: string,
  expectSessions?: number,
): Promise<void> {
  const status = await fetch(`${server.url}/session_status`, { headers: { cookie } });
  const body = (await status.json()) as { authenticated?: boolean; expires_in?: number };
  if (status.status !== 200 || body.authenticated !== true) {
    throw new Error(`${server.name}: a seeded session is refused: ${status.status} ${JSON.stringify(body)}`);
  }
  if (expectSessions !== undefined) {
    const list = await fetch(`${server.url}/active_sessions`, { headers: { cookie } });
    const sessions = ((await list.json()) as { sessions?: unknown[] }).sessions ?? [];
    if (list.status !== 200 || sessions.length !== expectSessions) {
      throw new Error(
        `${server.name}: /active_sessions gave ${list.status} with ${sessions.length} sessions, expected ${expectSessions}`,
      );
    }
  }
}

/** Logs in to a peer N times: one cookie per connection, as for our server. */
export async function peerCookies(peer: RunningServer, n: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${peer.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `peer-${i + 1}@example.com`, name: `Peer User ${i + 1}` }),
    });
    const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
    if (res.status !== 200 || !cookie)
      throw new Error(`${peer.name}: login ${i + 1} gave ${res.status} without a cookie`);
    cookies.push(cookie);
  }
  const check = await fetch(`${peer.url}/session_status`, { headers: { cookie: cookies[0] } });
  if (check.status !== 200) throw new Error(`${peer.name}: /session_status with a fresh cookie gave ${check.status}`);
  return cookies;
}

/** GET /health/live if the server has it (no database work), else GET /health. */
export async function livenessPath(server: RunningServer): Promise<{ path: string; note?: string }> {
  const res = await fetch(`${server.url}/health/live`);
  await res.arrayBuffer();
  if (res.status === 200) return { path: '/health/live' };
  return {
    path: '/health',
    note: `GET /health/live answered ${res.status}: GET /health (one SELECT 1) stands in for the liveness route`,
  };
}

/**
 * Runs bench/storm.ts in its own process (its own event loop, not the measuring one); resolves
 * once its connections are open, with the promise of its final counts.
 */
export function startStorm(
  server: RunningServer,
  connections: number,
  emails: string[],
  seconds: number,
): Promise<{ pid: number; result: Promise<StormResult> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'bench', 'storm.ts'),
      JSON.stringify({ url: server.url, connections, seconds, emails, password: LOGIN_PASSWORD }),
    ],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  onCleanup('stop the storm', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout });
  return new Promise((started, failed) => {
    const result = new Promise<StormResult>((done, fail) => {
      lines.on('line', (line) => {
        if (line === 'STARTED') started({ pid: child.pid!, result });
        else if (line.startsWith('RESULT ')) done(JSON.parse(line.slice(7)) as StormResult);
      });
      child.on('exit', (code) => {
        const error = new Error(`storm exited with ${code} before reporting`);
        fail(error);
        failed(error);
      });
    });
    result.catch(() => undefined);
  });
}
