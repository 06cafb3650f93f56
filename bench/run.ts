/**
 * npm run bench [-- flags]: builds the server, seeds databases of its own, starts the built server
 * (and, for comparison, a second one on a million sessions and two peers: @fastify/session and
 * express-session, each with a better-sqlite3 store) as child
 * processes, drives them with autocannon in alternated rounds, and prints one table and a
 * PASS/FAIL line per target. See docs/PERFORMANCE.md.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSeededSession, livenessPath, peerCookies, startStorm } from './clients';
import { cleanup, cleanupOnSignals, onCleanup, stopping } from './cleanup';
import { createDatabase, migrate, type BenchDatabase, type DbKind } from './db';
import { runLoad, type LoadSpec, type RunResult } from './load';
import { markdownTable, summarize, targetLines, writeJson, type RouteSummary, type Target } from './report';
import { LOGIN_PASSWORD, queryPlan, seed, type QueryPlan, type Seeded, type SeedSpec } from './seed';
import {
  BENCH_SECRET_KEY,
  PEERS,
  serverNodeFlags,
  startBaseline,
  startOurServer,
  startPeer,
  type PeerKind,
  type RunningServer,
} from './server';
import { REPO, floorPoints, memoryMiB, round, runCommand, sleep, slope } from './util';

/** The metrics-on server's METRICS_TOKEN (the bench scrapes it once, to check it is on). */
const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789';

const USAGE = `npm run bench -- [flags]
  --no-build          use the existing dist/ (default: npm run build first)
  --pg                PostgreSQL at 127.0.0.1:5432 (databases bench_<pid>_*, dropped at the end) instead of SQLite
  --duration S        seconds per run (10)          --connections N   connections per route (50)
  --rounds R          alternated rounds (3)         --warmup S        seconds of unrecorded warm-up per route (2)
  --rows N            sessions in the main database (1000)
  --no-scale          skip the second server on --scale-rows sessions (1000000, over 10000 users)
  --no-storm          skip the login-storm check    --no-peer         skip both peers (@fastify/session, express-session)
  --soak              also run the soak (--soak-minutes, default 10) and watch the server's RSS
  --baseline DIR      also run another build (DIR: a copy of an earlier dist/ inside the repository) on the same
                      database: its /health/live and /session_status in the same rounds, before and after`;

const { values: flags } = parseArgs({
  options: {
    help: { type: 'boolean' },
    'no-build': { type: 'boolean' },
    pg: { type: 'boolean' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    rows: { type: 'string', default: '1000' },
    'no-scale': { type: 'boolean' },
    'scale-rows': { type: 'string', default: '1000000' },
    'no-storm': { type: 'boolean' },
    'no-peer': { type: 'boolean' },
    soak: { type: 'boolean' },
    'soak-minutes': { type: 'string', default: '10' },
    baseline: { type: 'string' },
  },
  strict: true,
});

function positive(name: string, text: string | undefined, allowZero = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    console.error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got ${text})\n\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

const db: DbKind = flags.pg ? 'postgres' : 'sqlite';

const config = {
  build: !flags['no-build'],
  db,
  duration: positive('duration', flags.duration),
  connections: Math.round(positive('connections', flags.connections)),
  rounds: Math.round(positive('rounds', flags.rounds)),
  warmup: positive('warmup', flags.warmup, true),
  rows: Math.round(positive('rows', flags.rows)),
  scale: !flags['no-scale'],
  scaleRows: Math.round(positive('scale-rows', flags['scale-rows'])),
  storm: !flags['no-storm'],
  peer: !flags['no-peer'],
  soak: Boolean(flags.soak),
  soakMinutes: positive('soak-minutes', flags['soak-minutes']),
  baseline: flags.baseline ? resolve(flags.baseline) : undefined,
  /** bcrypt at cost 12 is slow on purpose, and the server answers 503 past its hashing queue. */
  loginConnections: 4,
  stormConnections: 20,
  /** Users only ever logged in to, so the session cap never evicts the sessions the other routes use. */
  loginUsers: 200,
  /** Ten sessions a user, the default MAX_SESSIONS_PER_USER: /active_sessions lists ten. */
  sessionsPerUser: 10,
  scaleUsers: 10_000,
  chatMessages: 200,
};

/** The load key of a peer's GET /session_status (the express one keeps its old key, for old JSON). */
const peerKey = (kind: PeerKind) => (kind === 'express' ? 'peer_status' : `${kind}_peer_status`);

const RESULTS_FILE = join(REPO, 'bench', 'results', 'latest.json');

function gitState(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function machine() {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    node: process.version,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    database: config.db === 'sqlite' ? 'SQLite (better-sqlite3, WAL)' : 'PostgreSQL 127.0.0.1:5432',
    git: gitState(),
    serverCommand: ['node', ...serverNodeFlags(), 'dist/src/main.js'].join(' '),
  };
}

function logRun(prefix: string, r: RunResult): void {
  if (stopping()) return;
  const speed = r.valid
    ? `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  cpu ${r.cpuUsPerReq?.toFixed(0) ?? '—'}${r.dbCpuUsPerReq !== null ? ` + db ${r.dbCpuUsPerReq.toFixed(0)}` : ''} µs/req`
    : `INVALID (${r.invalidReason})`;
  const peak = r.serverPeakMiB === null ? '' : `  VmHWM ${r.serverPeakMiB.toFixed(0)} MiB`;
  console.log(
    `  ${prefix.padEnd(12)} ${r.label.padEnd(34)} ${speed}  non-2xx ${r.non2xx}/${r.responses}  client ${r.clientCpuPct.toFixed(0)} %  other ${r.otherCpuPct.toFixed(0)} %${peak}`,
  );
}

/** Sessions the main server's cookie routes use, and the 1M server's. */
const cookiesOf = (seeded: Seeded) => seeded.tokens.map((token) => `session_token=${token}`);

async function prepareDatabase(
  name: string,
  spec: SeedSpec,
  tmpDir: string,
): Promise<{ db: BenchDatabase; seeded: Seeded; plan: QueryPlan }> {
  const db = await createDatabase(config.db, name, tmpDir);
  const started = Date.now();
  await migrate(db, BENCH_SECRET_KEY, join(tmpDir, `migrate-${name}.log`));
  console.log(`  ${name}: migrated in ${((Date.now() - started) / 1000).toFixed(1)} s (${db.label})`);
  const seeded = await seed(db, spec, BENCH_SECRET_KEY);
  console.log(
    `  ${name}: seeded ${seeded.users} users, ${spec.sessions} sessions, ${spec.chatMessages} chat messages in ${seeded.seconds.toFixed(1)} s`,
  );
  const plan = await queryPlan(db, seeded.sampleTokenHash);
  return { db, seeded, plan };
}

async function main(): Promise<void> {
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  cleanupOnSignals();
  const benchStarted = Date.now();
  const info = machine();
  console.log('# Session server benchmark\n');
  console.log(
    `machine: ${info.cores} cores, ${info.cpuModel}, ${info.memoryGiB} GiB; Node ${info.node}; load average ${info.loadAverageAtStart.join(' ')}`,
  );
  console.log(`code: ${info.git}; database: ${info.database}; server: ${info.serverCommand} (flags as in start:prod)`);
  console.log(
    `plan: ${config.rounds} alternated rounds × ${config.duration} s per route, ${config.connections} connections (login ${config.loginConnections}), warm-up ${config.warmup} s; ` +
      `main ${config.rows} sessions${config.scale ? `, scale ${config.scaleRows} sessions` : ''}${config.storm ? ', storm' : ''}${config.peer ? ', peers' : ''}${config.soak ? `, soak ${config.soakMinutes} min` : ''}\n`,
  );

  const tmpDir = mkdtempSync(join(tmpdir(), 'session-bench-'));
  onCleanup(`remove ${tmpDir}`, () => rmSync(tmpDir, { recursive: true, force: true }));

  if (config.build) {
    const started = Date.now();
    console.log('building (npm run build)...');
    await runCommand('npm', ['run', 'build'], { cwd: REPO, env: process.env, logFile: join(tmpDir, 'build.log') });
    console.log(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(join(REPO, 'dist', 'src', 'main.js')))
    throw new Error('dist/src/main.js is missing: run without --no-build');

  console.log('databases:');
  const mainSpec: SeedSpec = {
    sessions: config.rows,
    sessionUsers: Math.max(1, Math.ceil(config.rows / config.sessionsPerUser)),
    loginUsers: config.loginUsers,
    chatMessages: config.chatMessages,
    keepTokens: 1000,
  };
  const main = await prepareDatabase('main', mainSpec, tmpDir);
  const scaleSpec: SeedSpec = {
    sessions: config.scaleRows,
    sessionUsers: config.scaleUsers,
    loginUsers: 0,
    chatMessages: 0,
    keepTokens: 1000,
  };
  const scale = config.scale ? await prepareDatabase('scale', scaleSpec, tmpDir) : undefined;

  console.log('\nquery plan of the guard lookup:');
  for (const [name, p] of [
    ['main', main.plan],
    ['scale', scale?.plan],
  ] as const) {
    if (p)
      console.log(
        `  ${name} (${p.usesIndex ? 'uses the index' : 'NO INDEX'}):\n${p.lines.map((l) => `    ${l}`).join('\n')}`,
      );
  }

  console.log('\nservers:');
  const ours = await startOurServer('main', main.db.url, tmpDir);
  const perUser = Math.floor(mainSpec.sessions / Math.min(mainSpec.sessionUsers, mainSpec.sessions));
  await checkSeededSession(ours, cookiesOf(main.seeded)[0], perUser);
  const memory: Record<string, { startupMiB: number; afterLoadMiB?: number; rssAfterLoadMiB?: number }> = {
    main: { startupMiB: memoryMiB(ours.pid, 'VmHWM') },
  };
  console.log(`  main: pid ${ours.pid}, ${ours.url}, VmHWM ${memory.main.startupMiB.toFixed(1)} MiB after start`);
  // The same build and database with the metrics and the webhooks on (METRICS_TOKEN: the request
  // histogram and the counters are fed on every request; WEBHOOK_URLS: every session event is
  // written to the outbox and delivered to a receiver here that answers 204), measured in the same
  // rounds as the main server (both off).
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  onCleanup('webhook receiver', () => new Promise<void>((done) => receiver.close(() => done())));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  const withMetrics = await startOurServer('metrics', main.db.url, tmpDir, [], {
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    WEBHOOK_URLS: webhookUrl,
    WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
  });
  await checkSeededSession(withMetrics, cookiesOf(main.seeded)[0], perUser);
  const scraped = await fetch(`${withMetrics.url}/metrics`, {
    headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
  });
  if (scraped.status !== 200 || !(await scraped.text()).includes('http_request_duration_seconds_count'))
    throw new Error(`the metrics-on server did not serve /metrics (status ${scraped.status})`);
  console.log(`  metrics and webhooks on: pid ${withMetrics.pid}, ${withMetrics.url}, webhooks to ${webhookUrl}`);
  let scaleServer: RunningServer | undefined;
  if (scale) {
    scaleServer = await startOurServer('scale', scale.db.url, tmpDir);
    await checkSeededSession(scaleServer, cookiesOf(scale.seeded)[0]);
    memory.scale = { startupMiB: memoryMiB(scaleServer.pid, 'VmHWM') };
    console.log(
      `  scale: pid ${scaleServer.pid}, ${scaleServer.url}, VmHWM ${memory.scale.startupMiB.toFixed(1)} MiB after start`,
    );
  }
  let baseline: RunningServer | undefined;
  if (config.baseline) {
    baseline = await startBaseline(config.baseline, main.db.url, tmpDir);
    await checkSeededSession(baseline, cookiesOf(main.seeded)[0]);
    console.log(`  baseline (${config.baseline}): pid ${baseline.pid}, ${baseline.url}`);
  }
  // The peers: what a Fastify user and an Express user would write for the same job.
  const peers: Array<{ kind: PeerKind; server: RunningServer; cookies: string[] }> = [];
  if (config.peer) {
    for (const kind of ['fastify', 'express'] as const) {
      const server = await startPeer(kind, tmpDir);
      const peerCookieList = await peerCookies(server, config.connections);
      peers.push({ kind, server, cookies: peerCookieList });
      console.log(
        `  ${PEERS[kind].label} peer: pid ${server.pid}, ${server.url}, ${peerCookieList.length} sessions logged in`,
      );
    }
  }
  // Every process of the bench's own, so that each run can tell how much CPU others took meanwhile.
  const ourPids = [
    ours.pid,
    withMetrics.pid,
    scaleServer?.pid,
    baseline?.pid,
    ...peers.map((p) => p.server.pid),
  ].filter((pid): pid is number => pid !== undefined);
  const alsoOurs = () => ourPids;
  const live = await livenessPath(ours);
  if (live.note) console.log(`  NOTE: ${live.note}`);

  // Round order: the liveness route first (the yardstick of its round), each session_status next
  // to its comparison, login last (its bcrypt work is the heaviest).
  const cookies = cookiesOf(main.seeded);
  let loginIndex = 0;
  const specs: LoadSpec[] = [
    {
      key: 'live',
      label: `GET ${live.path}`,
      url: ours.url,
      pid: ours.pid,
      connections: config.connections,
      requests: [{ method: 'GET', path: live.path }],
    },
    {
      key: 'status',
      label: 'GET /session_status',
      url: ours.url,
      pid: ours.pid,
      connections: config.connections,
      requests: [{ method: 'GET', path: '/session_status' }],
      cookies,
    },
    {
      key: 'status_metrics',
      label: 'GET /session_status, metrics and webhooks on',
      url: withMetrics.url,
      pid: withMetrics.pid,
      connections: config.connections,
      requests: [{ method: 'GET', path: '/session_status' }],
      cookies,
    },
  ];
  if (scaleServer && scale) {
    specs.push({
      key: 'status_scale',
      label: `GET /session_status (${config.scaleRows.toLocaleString('en')} rows)`,
      url: scaleServer.url,
      pid: scaleServer.pid,
      connections: config.connections,
      requests: [{ method: 'GET', path: '/session_status' }],
      cookies: cookiesOf(scale.seeded),
    });
  }
  if (baseline) {
    specs.push(
      {
        key: 'baseline_live',
        label: `baseline: GET ${live.path}`,
        url: baseline.url,
        pid: baseline.pid,
        connections: config.connections,
        requests: [{ method: 'GET', path: live.path }],
      },
      {
        key: 'baseline_status',
        label: 'baseline: GET /session_status',
        url: baseline.url,
        pid: baseline.pid,
        connections: config.connections,
        requests: [{ method: 'GET', path: '/session_status' }],
        cookies,
      },
    );
  }
  for (const p of peers) {
    specs.push({
      key: peerKey(p.kind),
      label: `${PEERS[p.kind].label} peer: GET /session_status`,
      url: p.server.url,
      pid: p.server.pid,
      connections: config.connections,
      requests: [{ method: 'GET', path: '/session_status' }],
      cookies: p.cookies,
    });
  }
  specs.push(
    {
      key: 'active',
      label: 'GET /active_sessions',
      url: ours.url,
      pid: ours.pid,
      connections: config.connections,
      requests: [{ method: 'GET', path: '/active_sessions' }],
      cookies,
    },
    {
      key: 'chat_get',
      label: 'GET /global_chat',
      url: ours.url,
      pid: ours.pid,
      connections: config.connections,
      requests: [{ method: 'GET', path: '/global_chat' }],
      cookies,
    },
    {
      key: 'chat_post',
      label: 'POST /global_chat',
      url: ours.url,
      pid: ours.pid,
      connections: config.connections,
      requests: [{ method: 'POST', path: '/global_chat', body: () => '{"message":"bench"}' }],
      cookies,
      expect: 201,
    },
    {
      key: 'login',
      label: `POST /login (${config.loginConnections} conn.)`,
      url: ours.url,
      pid: ours.pid,
      connections: config.loginConnections,
      requests: [
        {
          method: 'POST',
          path: '/login',
          body: () =>
            JSON.stringify({
              email: main.seeded.loginEmails[loginIndex++ % main.seeded.loginEmails.length],
              password: LOGIN_PASSWORD,
            }),
        },
      ],
    },
  );

  for (const spec of specs) {
    spec.alsoOurs = alsoOurs;
    // The peers keep their sessions in SQLite files of their own, whatever database ours uses.
    if (config.db === 'postgres' && !spec.key.endsWith('peer_status')) spec.dbCommand = 'postgres';
  }

  if (config.warmup > 0) {
    console.log(`\nwarm-up (${config.warmup} s per route, not recorded)`);
    for (const spec of specs) {
      const r = await runLoad(spec, config.warmup);
      // The peak RSS after each route's first load shows which route raises it.
      console.log(
        `  ${spec.key.padEnd(12)} ${r.rps.toFixed(0).padStart(6)} req/s${r.serverPeakMiB === null ? '' : `, server VmHWM now ${r.serverPeakMiB.toFixed(0)} MiB`}`,
      );
    }
  }

  const runs = new Map<string, RunResult[]>(specs.map((s) => [s.key, []]));
  for (let roundNo = 1; roundNo <= config.rounds; roundNo++) {
    console.log(`\nround ${roundNo}/${config.rounds}`);
    for (const spec of specs) {
      const result = await runLoad(spec, config.duration);
      runs.get(spec.key)!.push(result);
      logRun(spec.key, result);
    }
  }

  // Login storm: session_status alone, then again while another process hammers POST /login.
  let storm:
    | { alone: RunResult; during: RunResult; logins: Record<string, number>; loginErrors: number; stormSeconds: number }
    | undefined;
  if (config.storm) {
    console.log(`\nlogin storm (${config.stormConnections} connections on POST /login from a second process)`);
    const statusSpec = specs.find((s) => s.key === 'status')!;
    const alone = await runLoad(
      { ...statusSpec, key: 'storm_alone', label: 'GET /session_status (alone)' },
      config.duration,
    );
    logRun('alone', alone);
    const { result, pid: stormPid } = await startStorm(
      ours,
      config.stormConnections,
      main.seeded.loginEmails,
      config.duration + 2,
    );
    ourPids.push(stormPid);
    await sleep(1000); // let the hashing queue fill before measuring
    const during = await runLoad(
      { ...statusSpec, key: 'storm_during', label: 'GET /session_status (login storm)' },
      config.duration,
    );
    // The server's CPU then includes the storm's bcrypt and 503s: no per-request figure for it.
    during.cpuUsPerReq = null;
    logRun('storm', during);
    const stormResult = await result;
    storm = {
      alone,
      during,
      logins: stormResult.statusCounts,
      loginErrors: stormResult.errors,
      stormSeconds: stormResult.seconds,
    };
    console.log(
      `  storm logins: ${Object.entries(stormResult.statusCounts)
        .map(([s, n]) => `${n}×${s}`)
        .join(', ')}${stormResult.errors ? `, ${stormResult.errors} errors` : ''} in ${stormResult.seconds} s`,
    );
  }

  // VmHWM is the peak; VmRSS beside it tells whether the memory was kept or given back.
  memory.main.afterLoadMiB = memoryMiB(ours.pid, 'VmHWM');
  memory.main.rssAfterLoadMiB = memoryMiB(ours.pid, 'VmRSS');
  if (scaleServer) {
    memory.scale.afterLoadMiB = memoryMiB(scaleServer.pid, 'VmHWM');
    memory.scale.rssAfterLoadMiB = memoryMiB(scaleServer.pid, 'VmRSS');
  }

  let soak:
    | {
        result: RunResult;
        samples: Array<{ minute: number; rssMiB: number }>;
        first: number;
        last: number;
        max: number;
        slopeLast5: number;
        floorSlopeLast5: number;
      }
    | undefined;
  if (config.soak) {
    const seconds = config.soakMinutes * 60;
    console.log(
      `\nsoak: ${config.soakMinutes} min of session_status + active_sessions + global_chat, VmRSS every 30 s`,
    );
    const samples: Array<{ minute: number; rssMiB: number }> = [];
    const started = Date.now();
    const sample = () => {
      const s = { minute: (Date.now() - started) / 60_000, rssMiB: memoryMiB(ours.pid, 'VmRSS') };
      samples.push(s);
      console.log(`  ${s.minute.toFixed(1).padStart(5)} min  VmRSS ${s.rssMiB.toFixed(1)} MiB`);
    };
    sample();
    const timer = setInterval(sample, 30_000);
    const result = await runLoad(
      {
        key: 'soak',
        label: 'soak: mixed GETs',
        url: ours.url,
        pid: ours.pid,
        connections: config.connections,
        requests: [
          { method: 'GET', path: '/session_status' },
          { method: 'GET', path: '/active_sessions' },
          { method: 'GET', path: '/global_chat' },
        ],
        cookies,
        alsoOurs,
        dbCommand: config.db === 'postgres' ? 'postgres' : undefined,
      },
      seconds,
    );
    clearInterval(timer);
    sample();
    logRun('soak', result);
    const lastFive = samples
      .filter((s) => s.minute >= samples[samples.length - 1].minute - 5)
      .map((s) => [s.minute, s.rssMiB] as [number, number]);
    soak = {
      result,
      samples,
      first: samples[0].rssMiB,
      last: samples[samples.length - 1].rssMiB,
      max: Math.max(...samples.map((s) => s.rssMiB)),
      slopeLast5: slope(lastFive),
      floorSlopeLast5: slope(floorPoints(lastFive)),
    };
  }

  // ---- report ----
  const liveRuns = runs.get('live')!;
  const summaries: RouteSummary[] = specs.map((s) =>
    summarize(s.key, s.label, runs.get(s.key)!, s.key === 'live' ? undefined : liveRuns),
  );
  summaries[0].ratioToLive = summaries[0].valid ? 1 : null;
  if (storm)
    summaries.push(
      summarize('storm_alone', storm.alone.label, [storm.alone]),
      summarize('storm_during', storm.during.label, [storm.during]),
    );
  if (soak) summaries.push(summarize('soak', soak.result.label, [soak.result]));

  /** Median over rounds of a ÷ b, each ratio within one round; null when any run was invalid. */
  const pairedRatio = (a: string, b: string): number | null => {
    const ra = runs.get(a);
    const rb = runs.get(b);
    if (!ra || !rb || ra.some((r) => !r.valid) || rb.some((r) => !r.valid)) return null;
    const ratios = ra.map((r, i) => r.rps / rb[i].rps).sort((x, y) => x - y);
    return ratios.length % 2
      ? ratios[(ratios.length - 1) / 2]
      : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2;
  };
  const invalid = 'INVALID run (see table)';
  const targets: Target[] = [];
  if (scale) {
    const r = pairedRatio('status_scale', 'status');
    targets.push({
      name: `GET /session_status req/s with ${config.scaleRows.toLocaleString('en')} session rows ÷ with ${config.rows.toLocaleString('en')}`,
      target: 'within 10 % (0.90–1.10)',
      measured: r === null ? invalid : r.toFixed(3),
      pass: r !== null && Math.abs(r - 1) <= 0.1,
    });
  }
  const statusRatio = pairedRatio('status', 'live');
  targets.push({
    name: 'GET /session_status req/s ÷ GET /health/live',
    target: '≥ 0.8×',
    measured: statusRatio === null ? invalid : `${statusRatio.toFixed(3)}×`,
    pass: statusRatio !== null && statusRatio >= 0.8,
  });
  // Issue 22: the metrics and webhooks cost the guard's path at most 5 %.
  const metricsRatio = pairedRatio('status_metrics', 'status');
  targets.push({
    name: 'GET /session_status req/s with metrics and webhooks on ÷ off',
    target: '≥ 0.95×',
    measured: metricsRatio === null ? invalid : `${metricsRatio.toFixed(3)}×`,
    pass: metricsRatio !== null && metricsRatio >= 0.95,
  });
  const plans = [['main', main.plan], ...(scale ? [['scale', scale.plan]] : [])] as Array<[string, QueryPlan]>;
  targets.push({
    name: `guard lookup (${config.db}) uses uq_sessions_token_hash`,
    target: 'index search on every database',
    measured: plans.map(([n, p]) => `${n}: ${p.usesIndex ? 'index' : 'NO INDEX'}`).join(', '),
    pass: plans.every(([, p]) => p.usesIndex),
  });
  if (storm) {
    const ok = storm.alone.valid && storm.during.valid;
    const r = storm.during.p99Ms / storm.alone.p99Ms;
    targets.push({
      name: 'GET /session_status p99 during a login storm ÷ alone',
      target: '≤ 3×',
      measured: ok
        ? `${r.toFixed(2)}× (${storm.during.p99Ms.toFixed(2)} ms vs ${storm.alone.p99Ms.toFixed(2)} ms)`
        : invalid,
      pass: ok && r <= 3,
    });
  }
  targets.push({
    name: `peak RSS (VmHWM) of the main server (${config.rows.toLocaleString('en')} sessions) after the load`,
    target: '≤ 150 MiB',
    measured: `${memory.main.afterLoadMiB.toFixed(1)} MiB (${memory.main.startupMiB.toFixed(1)} MiB after start; VmRSS now ${memory.main.rssAfterLoadMiB.toFixed(1)} MiB)`,
    pass: memory.main.afterLoadMiB <= 150,
  });
  if (memory.scale?.afterLoadMiB !== undefined) {
    targets.push({
      name: `peak RSS (VmHWM) of the server on ${config.scaleRows.toLocaleString('en')} sessions after its rounds`,
      target: '≤ 150 MiB',
      measured: `${memory.scale.afterLoadMiB.toFixed(1)} MiB (${memory.scale.startupMiB.toFixed(1)} MiB after start; VmRSS now ${memory.scale.rssAfterLoadMiB!.toFixed(1)} MiB)`,
      pass: memory.scale.afterLoadMiB <= 150,
    });
  }
  // Issue 18: ≥ 1.2× what a Fastify user would pick; ≥ 1.5× express-session since the Express runs.
  for (const p of peers) {
    const r = pairedRatio('status', peerKey(p.kind));
    const min = p.kind === 'fastify' ? 1.2 : 1.5;
    targets.push({
      name: `GET /session_status req/s ÷ ${PEERS[p.kind].label} peer`,
      target: `≥ ${min}×`,
      measured: r === null ? invalid : `${r.toFixed(2)}×`,
      pass: r !== null && r >= min,
    });
  }
  if (soak) {
    targets.push({
      name: `soak RSS slope over the last 5 of ${config.soakMinutes} min`,
      target: 'no growth (slope of the per-minute lowest sample ≤ 0.5 MiB/min)',
      measured:
        `${soak.floorSlopeLast5.toFixed(2)} MiB/min (all samples: ${soak.slopeLast5.toFixed(2)} MiB/min; ` +
        `first ${soak.first.toFixed(1)}, last ${soak.last.toFixed(1)}, max ${soak.max.toFixed(1)} MiB)${soak.result.valid ? '' : '; INVALID run'}`,
      pass: soak.result.valid && soak.floorSlopeLast5 <= 0.5,
    });
  }

  const table = markdownTable(summaries);
  const seededLine =
    `main: ${main.seeded.users} users (${main.seeded.users - mainSpec.loginUsers} with sessions, ${mainSpec.loginUsers} for POST /login), ` +
    `${mainSpec.sessions.toLocaleString('en')} sessions, ${mainSpec.chatMessages} global chat messages` +
    (scale
      ? `; scale: ${scale.seeded.users.toLocaleString('en')} users, ${scaleSpec.sessions.toLocaleString('en')} sessions`
      : '');
  console.log(`\n## Results (median of ${config.rounds} rounds)\n`);
  console.log(
    `${info.cores} cores, ${info.cpuModel}, Node ${info.node}, ${info.database}, code ${info.git}, server \`${info.serverCommand}\``,
  );
  console.log(`rows seeded: ${seededLine}`);
  console.log(`cookies: one seeded session per connection (connection i uses user i's session)\n`);
  console.log(table);
  if (live.note) console.log(`\nNOTE: ${live.note}`);
  if (storm)
    console.log(
      `\nlogins during the storm (${storm.stormSeconds} s, ${config.stormConnections} connections): ${Object.entries(
        storm.logins,
      )
        .map(([s, n]) => `${n}×${s}`)
        .join(', ')}${storm.loginErrors ? `, ${storm.loginErrors} errors` : ''}`,
    );
  if (baseline) {
    const line = (a: string, b: string, what: string) => {
      const r = pairedRatio(a, b);
      return `- ${what}: this build ÷ the baseline ${r === null ? invalid : `${r.toFixed(3)}×`} (req/s, median of the per-round ratios)`;
    };
    console.log(`\n## This build against the baseline (${config.baseline})\n`);
    console.log(line('live', 'baseline_live', `GET ${live.path}`));
    console.log(line('status', 'baseline_status', 'GET /session_status'));
    for (const p of peers) {
      const r = pairedRatio('baseline_status', peerKey(p.kind));
      console.log(
        `- baseline GET /session_status ÷ ${PEERS[p.kind].label} peer: ${r === null ? invalid : `${r.toFixed(2)}×`}`,
      );
    }
  }
  console.log('\n## Targets\n');
  console.log(targetLines(targets));
  const seconds = (Date.now() - benchStarted) / 1000;
  console.log(
    `\nload average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; total ${seconds.toFixed(0)} s; JSON in bench/results/latest.json`,
  );

  writeJson(RESULTS_FILE, {
    when: new Date().toISOString(),
    machine: { ...info, loadAverageAtEnd: loadavg().map((x) => round(x, 2)) },
    config: {
      ...config,
      livenessPath: live.path,
      livenessNote: live.note ?? null,
      cookies: 'one seeded session per connection (connection i: session of user i)',
    },
    seeded: {
      main: {
        users: main.seeded.users,
        sessions: mainSpec.sessions,
        chatMessages: mainSpec.chatMessages,
        loginUsers: mainSpec.loginUsers,
        seconds: main.seeded.seconds,
      },
      scale: scale ? { users: scale.seeded.users, sessions: scaleSpec.sessions, seconds: scale.seeded.seconds } : null,
    },
    queryPlans: Object.fromEntries(plans.map(([n, p]) => [n, p])),
    routes: summaries,
    runs: Object.fromEntries(runs),
    storm: storm ?? null,
    memoryMiB: memory,
    soak: soak ?? null,
    targets,
    table,
    seconds,
  });
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    console.error(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanup();
    process.exit(1);
  });
