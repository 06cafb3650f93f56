import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRET } from './utils/test-app';

/**
 * SIGTERM on the real server (built, run with node, as in production): requests in flight finish,
 * new connections are refused, the database is closed, and the process exits 0 — within
 * SHUTDOWN_TIMEOUT_MS, cutting requests that take longer.
 */
describe('Graceful shutdown on SIGTERM (the built server)', () => {
  let dir: string;
  const running: ChildProcess[] = [];

  beforeAll(() => {
    execFileSync('npx', ['nest', 'build'], { cwd: join(__dirname, '..'), stdio: 'pipe' });
    dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
  }, 180_000);

  afterAll(() => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  interface Server {
    port: number;
    child: ChildProcess;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
    output: () => string;
  }

  async function startServer(name: string, env: Record<string, string>): Promise<Server> {
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: join(__dirname, '..'),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        DATABASE_URL: `sqlite:///${join(dir, `${name}.db`)}`,
        SECRET_KEY: TEST_SECRET,
        // A login takes about a second: long enough to be in flight when the signal comes.
        BCRYPT_ROUNDS: '13',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await send(port, 'GET', '/health/live').catch(() => undefined);
      if (res?.status === 200) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${output}`);
      await sleep(100);
    }
    return { port, child, exited, output: () => output };
  }

  const user = {
    name: 'Shut Down',
    phone: '+1 555 0100',
    email: 'down@example.com',
    password: 'correct horse battery',
  };

  it('finishes the request in flight, refuses new connections, and exits 0', async () => {
    const server = await startServer('graceful', { SHUTDOWN_TIMEOUT_MS: '10000' });
    expect((await send(server.port, 'POST', '/signup', user)).status).toBe(201);

    let answeredAt = 0;
    const inFlight = send(server.port, 'POST', '/login', { email: user.email, password: user.password }).finally(
      () => (answeredAt = Date.now()),
    );
    await sleep(200);
    expect(answeredAt).toBe(0);
    const signalled = Date.now();
    server.child.kill('SIGTERM');

    // No new connection is taken while the login is still being answered.
    let refused = false;
    while (!refused && Date.now() - signalled < 2000) {
      refused = await connects(server.port).then(
        () => false,
        (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
      );
      if (!refused) await sleep(20);
    }
    expect(refused).toBe(true);

    const login = await inFlight;
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ user: { email: user.email } });
    expect(login.headers['set-cookie']?.join()).toMatch(/session_token=/);

    const exit = await server.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // Right after the answer: the login's keep-alive connection was closed with it.
    expect(exit.at - answeredAt).toBeLessThan(2000);
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  }, 60_000);

  it('cuts requests still running at SHUTDOWN_TIMEOUT_MS and exits 0 on time', async () => {
    const server = await startServer('deadline', { SHUTDOWN_TIMEOUT_MS: '300' });
    expect((await send(server.port, 'POST', '/signup', user)).status).toBe(201);

    const inFlight = send(server.port, 'POST', '/login', { email: user.email, password: user.password }).then(
      (res) => res.status,
      (error: NodeJS.ErrnoException) => error.code,
    );
    await sleep(100);
    const signalled = Date.now();
    server.child.kill('SIGTERM');

    const exit = await server.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // The login needed about a second more; the server gave it 300 ms.
    expect(exit.at - signalled).toBeLessThan(900);
    expect(await inFlight).toBe('ECONNRESET');
  }, 60_000);
});

interface Response {
  status: number;
  headers: Record<string, string[] | string | undefined> & { 'set-cookie'?: string[] };
  body: unknown;
}

/** One request over a keep-alive connection (Node's default agent), as a real client makes it. */
function send(port: number, method: string, path: string, body?: object): Promise<Response> {
  return new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function connects(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
