import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The built server (dist/src/main.js) in a process of its own, for the specs that need what one
 * test app in the Jest process cannot show: several instances on one database. Its output is kept
 * (the last 64 kB) so a failure can show what the server said.
 */
export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** What the process wrote to stdout and stderr so far (the tail). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Safe to call more than once. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (a crash: no shutdown hook runs), and waits for the exit. */
  kill(): Promise<void>;
}

const ROOT = join(__dirname, '..', '..');
export const BUILT_MAIN = join(ROOT, 'dist', 'src', 'main.js');
const OUTPUT_LIMIT = 64 * 1024;

/** Every server started and not yet stopped: killed when the Jest process exits, whatever happened. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** `nest build` into dist/ (what `npm run build` does); about 20 s on two cores. */
export async function buildServer(): Promise<void> {
  await promisify(execFile)(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build'], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** A TCP port nothing listens on right now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `node dist/src/main.js` with exactly `env` (plus PATH, HOME, NO_COLOR) and PORT set, in a
 * temporary working directory (so no developer's .env is read), and waits until GET /health answers
 * 200. If it exits first or is not healthy within `timeoutMs`, it is killed and the error carries
 * its output.
 */
export async function startServer(
  name: string,
  env: Record<string, string>,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [BUILT_MAIN], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ?? `exit code ${code}`;
      running.delete(child);
      resolve();
    });
  });
  child.once('error', (error) => keep(Buffer.from(`spawn error: ${error.message}\n`)));

  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    name,
    url,
    port,
    output: () => output,
    async stop(graceMs = 5000) {
      if (exited) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      if (!exited) {
        child.kill('SIGKILL');
        await gone;
      }
    },
    async kill() {
      if (exited) return;
      child.kill('SIGKILL');
      await gone;
    },
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  const why = exited ? `exited (${exited})` : `did not answer GET /health with 200 within ${timeoutMs / 1000} s`;
  await server.stop();
  throw new Error(`Server ${name} ${why}. Its output:\n${output}`);
}
