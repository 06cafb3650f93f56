/**
 * npm run bench:profile [-- seconds]: where a request's CPU goes. Seeds a SQLite database like
 * `npm run bench`, then for each route starts the built server (start:prod's flags) with
 * `--cpu-prof`, drives it with autocannon (50 connections, one seeded session per connection),
 * stops it (the profile is written at exit) and prints the profile summarised: self time by
 * component (our files, each package, Node's internals, GC) and the share of samples whose stack
 * holds a given frame (inclusive). The .cpuprofile files are kept in bench/results/profiles/ for
 * Chrome DevTools. See docs/PERFORMANCE.md, "Where a request's time goes".
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, cleanupOnSignals, onCleanup } from './cleanup';
import { createDatabase, migrate } from './db';
import { runLoad } from './load';
import { seed } from './seed';
import { BENCH_SECRET_KEY, startOurServer } from './server';
import { REPO } from './util';

const SECONDS = Number(process.argv[2] ?? 10);
const OUT = join(REPO, 'bench', 'results', 'profiles');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What a frame belongs to: one of our files, a package, Node itself, or V8's pseudo-frames. */
function component(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /\/dist\/(src\/.*)\.js$/.exec(url);
  if (ours) return ours[1];
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

/**
 * The layer a frame's time is charged to, for the summary table; undefined for Node's own frames
 * (streams, timers, promises), whose time goes to the nearest caller that has a layer, or to
 * "Node http/net" when the stack holds none (parsing a request, the socket's events).
 */
const LAYERS: Array<[RegExp, string]> = [
  [/^\(native\) writev?$|^\(native\) writeUtf8String|^\(native\) writeBuffer/, 'socket write (syscall)'],
  [/^\(garbage collector\)$/, 'garbage collection'],
  [/^\(program\)$/, 'V8 (program)'],
  [/^\(root\)$/, 'Node http/net'],
  [/^\(native\) stringify$/, 'JSON serialisation'],
  [
    /^src\/(auth\/session\.guard|auth\/api-session|sessions\/|users\/)|^typeorm$|^better-sqlite3$/,
    'guard: session read (SQL, HMAC, rules)',
  ],
  [/^src\/.*(dto|mapper|serializ)/, 'response mapping (DTOs)'],
  [/^helmet$|^src\/common\/security-headers$|^@fastify\/cors$|^vary$/, 'security headers, CORS'],
  [
    /^src\/common\/(cross-site|body-parsing|route-key|lingering-close|content-negotiation)$|^src\/app\.setup$/,
    'our other edge hooks',
  ],
  [/^pino$|^nestjs-pino$|^src\/common\/logging$|^on-exit-leak-free$|^sonic-boom$|^fast-redact|^@pinojs/, 'logging'],
  [/^@fastify\/middie$|^path-to-regexp$/, 'Nest middleware on Fastify (middie)'],
  [
    /^@nestjs\/|^rxjs$|^src\/common\/(validation\.pipe|all-exceptions\.filter)$|^class-validator$|^class-transformer$|^reflect-metadata$|^lodash$/,
    'Nest (router, pipes, guards, filters)',
  ],
  [/^@fastify\/cookie$|^cookie$/, 'cookies'],
  [/^fastify$|^find-my-way$|^light-my-request$|^avvio$|^fast-json-stringify$|^@fastify\//, 'Fastify'],
  [/^src\//, 'our other code'],
];
function layer(frame: ProfileNode['callFrame']): string | undefined {
  const c = component(frame);
  if (c === 'node:internal' || (c.startsWith('(native)') && !LAYERS[0][0].test(c) && c !== '(native) stringify'))
    return undefined;
  for (const [pattern, name] of LAYERS) if (pattern.test(c)) return name;
  return `other: ${c}`;
}

const frameName = (frame: ProfileNode['callFrame']) =>
  `${frame.functionName || '(anonymous)'} ${component(frame)}:${frame.lineNumber + 1}`;

/** Self time per component and inclusive share per component and per frame, in % of non-idle samples. */
function summarise(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const byLayer = new Map<string, number>();
  const selfFrame = new Map<string, number>();
  const inclusiveComponent = new Map<string, number>();
  const inclusiveFrame = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((leaf, i) => {
    const node = byId.get(leaf)!;
    if (node.callFrame.functionName === '(idle)') return;
    const dt = profile.timeDeltas[i] ?? 0;
    // Start-up (loading modules, Nest's bootstrap) is not a request's time.
    let startup = false;
    for (let id: number | undefined = leaf; id !== undefined && !startup; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      startup = f.functionName === 'Module._load' || (f.functionName === 'bootstrap' && f.url.endsWith('/main.js'));
    }
    if (startup) return;
    busy += dt;
    const leafComponent = component(node.callFrame);
    self.set(leafComponent, (self.get(leafComponent) ?? 0) + dt);
    const leafFrame = frameName(node.callFrame);
    selfFrame.set(leafFrame, (selfFrame.get(leafFrame) ?? 0) + dt);
    let charged: string | undefined;
    for (let id: number | undefined = leaf; id !== undefined && !charged; id = parent.get(id))
      charged = layer(byId.get(id)!.callFrame);
    charged ??= 'Node http/net';
    byLayer.set(charged, (byLayer.get(charged) ?? 0) + dt);
    const seenC = new Set<string>();
    const seenF = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      seenC.add(component(frame));
      seenF.add(frameName(frame));
    }
    for (const c of seenC) inclusiveComponent.set(c, (inclusiveComponent.get(c) ?? 0) + dt);
    for (const f of seenF) inclusiveFrame.set(f, (inclusiveFrame.get(f) ?? 0) + dt);
  });
  const pct = (v: number) => ((100 * v) / busy).toFixed(1).padStart(5);
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v)} %  ${k}`)
      .join('\n');
  return [
    `busy ${(busy / 1e6).toFixed(2)} s of samples`,
    `self time by layer (Node's own frames charged to their caller):\n${list(byLayer, top)}`,
    `self time by component:\n${list(self, top)}`,
    `self time by frame:\n${list(selfFrame, top * 2)}`,
    `inclusive by component:\n${list(inclusiveComponent, top)}`,
    `inclusive by frame:\n${list(inclusiveFrame, top * 2)}`,
  ].join('\n\n');
}

async function main(): Promise<void> {
  cleanupOnSignals();
  mkdirSync(OUT, { recursive: true });
  const tmpDir = mkdtempSync(join(tmpdir(), 'session-profile-'));
  onCleanup(`remove ${tmpDir}`, () => rmSync(tmpDir, { recursive: true, force: true }));
  const db = await createDatabase('sqlite', 'profile', tmpDir);
  await migrate(db, BENCH_SECRET_KEY, join(tmpDir, 'migrate.log'));
  const seeded = await seed(
    db,
    { sessions: 1000, sessionUsers: 100, loginUsers: 0, chatMessages: 0, keepTokens: 100 },
    BENCH_SECRET_KEY,
  );
  const cookies = seeded.tokens.map((token) => `session_token=${token}`);
  for (const [name, path, withCookies] of [
    ['live', '/health/live', false],
    ['status', '/session_status', true],
  ] as const) {
    const dir = join(tmpDir, `prof-${name}`);
    const server = await startOurServer(name, db.url, tmpDir, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const spec = {
      key: name,
      label: `GET ${path}`,
      url: server.url,
      pid: server.pid,
      connections: 50,
      requests: [{ method: 'GET' as const, path }],
      cookies: withCookies ? cookies : undefined,
    };
    await runLoad(spec, 2); // warm-up, in the profile too (a small share)
    const r = await runLoad(spec, SECONDS);
    await server.stop();
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile written in ${dir}`);
    const kept = join(OUT, `${name}.cpuprofile`);
    renameSync(join(dir, file), kept);
    console.log(
      `\n## GET ${path}: ${r.rps.toFixed(0)} req/s, ${r.cpuUsPerReq?.toFixed(0)} µs CPU/req under the profiler (${kept})\n`,
    );
    console.log(summarise(JSON.parse(readFileSync(kept, 'utf8')) as CpuProfile));
  }
}

if (process.argv[2] === '--summarise') {
  for (const file of process.argv.slice(3)) {
    console.log(`\n## ${file}\n`);
    console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile));
  }
} else {
  main()
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => cleanup());
}
