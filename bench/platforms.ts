/**
 * npm run bench:platforms: what does the HTTP platform cost? The same built AppModule, on one seeded SQLite
 * database, served three ways: the product as deployed (dist/src/main.js, on Fastify with every
 * middleware), and the bare module on Express and on Fastify with only cookie parsing
 * (bench/probe/platform.js), and a bare Fastify route without Nest (the floor). `GET /health/live` and `GET /session_status` on each, in alternated
 * rounds. Needs a built dist/ (npm run build). See docs/PERFORMANCE.md, "Express or Fastify".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, cleanupOnSignals, onCleanup } from './cleanup';
import { createDatabase, migrate } from './db';
import { runLoad, type LoadSpec, type RunResult } from './load';
import { markdownTable, summarize } from './report';
import { seed } from './seed';
import { BENCH_SECRET_KEY, startOurServer, startProbe, type RunningServer } from './server';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 8);

async function main(): Promise<void> {
  cleanupOnSignals();
  const tmpDir = mkdtempSync(join(tmpdir(), 'session-platforms-'));
  onCleanup(`remove ${tmpDir}`, () => rmSync(tmpDir, { recursive: true, force: true }));
  const db = await createDatabase('sqlite', 'platforms', tmpDir);
  await migrate(db, BENCH_SECRET_KEY, join(tmpDir, 'migrate.log'));
  const seeded = await seed(
    db,
    { sessions: 1000, sessionUsers: 100, loginUsers: 0, chatMessages: 0, keepTokens: 100 },
    BENCH_SECRET_KEY,
  );
  const cookies = seeded.tokens.map((token) => `session_token=${token}`);

  const servers: Array<[string, RunningServer]> = [
    ['product (Fastify, all middleware)', await startOurServer('product', db.url, tmpDir)],
    ['bare AppModule on Express', await startProbe('express', db.url, tmpDir)],
    ['bare AppModule on Fastify', await startProbe('fastify', db.url, tmpDir)],
    ['bare Fastify route, no Nest', await startProbe('fastify-bare', db.url, tmpDir)],
  ];
  const specs: LoadSpec[] = servers
    .flatMap(([name, server]): LoadSpec[] => [
      {
        key: `${server.name}:live`,
        label: `${name}: GET /health/live`,
        url: server.url,
        pid: server.pid,
        connections: 50,
        requests: [{ method: 'GET', path: '/health/live' }],
      },
      {
        key: `${server.name}:status`,
        label: `${name}: GET /session_status`,
        url: server.url,
        pid: server.pid,
        connections: 50,
        requests: [{ method: 'GET', path: '/session_status' }],
        cookies,
      },
    ])
    .filter((spec) => !(spec.key === 'probe-fastify-bare:status'));
  for (const spec of specs) await runLoad(spec, 2); // warm-up
  const runs = new Map<string, RunResult[]>(specs.map((s) => [s.key, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const spec of specs) {
      const result = await runLoad(spec, SECONDS);
      runs.get(spec.key)!.push(result);
      console.log(
        `round ${round}  ${spec.label.padEnd(60)} ${result.valid ? `${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(1)} ms, ${result.cpuUsPerReq?.toFixed(0)} µs CPU/req` : `INVALID ${result.invalidReason}`}`,
      );
    }
  }
  const productLive = runs.get('product:live')!;
  console.log(
    `\n${ROUNDS} alternated rounds × ${SECONDS} s, 50 connections; ratios to the product's GET /health/live in the same round\n`,
  );
  console.log(
    markdownTable(
      specs.map((s) => summarize(s.key, s.label, runs.get(s.key)!, s.key === 'product:live' ? undefined : productLive)),
    ),
  );
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
