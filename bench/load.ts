import autocannon from 'autocannon';
import { commandCpuMicros, cpuMicros, machineCpuMicros, memoryMiB, percentile } from './util';

/** One kind of request; `body` is called for every send, so each login can be for another user. */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: () => string;
}

/** One route to drive: what to send, over how many connections, with which cookies. */
export interface LoadSpec {
  key: string;
  label: string;
  url: string;
  /** The server's pid, for its CPU time; undefined when it is not ours to read. */
  pid?: number;
  /** Other processes of the bench itself (the storm), left out of the "other CPU" figure. */
  alsoOurs?: () => number[];
  /** The database server's command name (`postgres`), whose CPU is reported beside the server's. */
  dbCommand?: string;
  connections: number;
  /** Sent in turn by every connection. */
  requests: RequestSpec[];
  /** Cookie header values: connection i sends cookies[i mod n], so no single session row is hot. */
  cookies?: string[];
  /** The one status a correct answer has (201 for POST /global_chat); default: any 2xx. */
  expect?: number;
}

export interface RunResult {
  key: string;
  label: string;
  seconds: number;
  responses: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  statusCounts: Record<string, number>;
  /** Server CPU (user + system, all threads) per response, in microseconds. */
  cpuUsPerReq: number | null;
  /** The database server's CPU per response (PostgreSQL only), in microseconds. */
  dbCpuUsPerReq: number | null;
  valid: boolean;
  invalidReason?: string;
  /**
   * Share of the machine's CPU (all cores) used during the run by processes that are neither the
   * server nor the bench: a high figure means someone else's work disturbed the run.
   */
  otherCpuPct: number;
  /**
   * CPU of the bench process (autocannon) during the run, in % of one core: near 100 the client,
   * not the server, was the limit (large responses cost autocannon's JS HTTP parser a lot).
   */
  clientCpuPct: number;
  /** The server's peak RSS (VmHWM) so far, read right after the run: which route raised it. */
  serverPeakMiB: number | null;
}

/** More than this share of non-2xx answers, errors or timeouts makes a run INVALID, never a speed. */
export const INVALID_SHARE = 0.01;

/** The autocannon requests of connection `index`: its own cookie, a JSON body where there is one. */
export function connectionRequests(spec: Pick<LoadSpec, 'requests' | 'cookies'>, index: number): autocannon.Request[] {
  const cookie = spec.cookies?.length ? spec.cookies[index % spec.cookies.length] : undefined;
  return spec.requests.map((request) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    if (request.body) headers['content-type'] = 'application/json';
    const built: autocannon.Request = { method: request.method, path: request.path, headers };
    const body = request.body;
    if (body) built.setupRequest = (req) => ({ ...req, body: body() });
    return built;
  });
}

/**
 * Drives one route for `seconds` with autocannon in this process, and reads the server's CPU time
 * from /proc before and after. Latencies are taken from every response (autocannon's own histogram
 * keeps whole milliseconds of 2xx answers only).
 */
export async function runLoad(spec: LoadSpec, seconds: number): Promise<RunResult> {
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let nextConnection = 0;
  const cpuBefore = spec.pid ? cpuMicros(spec.pid) : 0;
  const oursBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();
  const extraPids = (spec.alsoOurs?.() ?? []).filter((pid) => pid !== spec.pid);
  const extraBefore = extraPids.map((pid) => safeCpu(pid));
  const dbBefore = spec.dbCommand ? commandCpuMicros(spec.dbCommand) : 0;
  const machineBefore = machineCpuMicros();

  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: seconds,
        timeout: 10,
        setupClient: (client) => client.setRequests(connectionRequests(spec, nextConnection++)),
      },
      (error, res) => (error ? fail(error) : done(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    });
  });

  const cpuAfter = spec.pid ? cpuMicros(spec.pid) : 0;
  const machineAfter = machineCpuMicros();
  const db = spec.dbCommand ? commandCpuMicros(spec.dbCommand) - dbBefore : 0;
  const oursUsage = process.cpuUsage(oursBefore);
  const wallMicros = Number(process.hrtime.bigint() - wallBefore) / 1000;
  const extra = extraPids.reduce((sum, pid, i) => sum + Math.max(0, safeCpu(pid) - extraBefore[i]), 0);
  const ours = cpuAfter - cpuBefore + oursUsage.user + oursUsage.system + extra + db;
  const otherCpuPct = Math.max(
    0,
    (100 * (machineAfter.busy - machineBefore.busy - ours)) / (machineAfter.total - machineBefore.total),
  );
  const sorted = Float64Array.from(latencies).sort();
  const responses = sorted.length;
  const non2xx = Object.entries(statusCounts).reduce(
    (n, [status, count]) => (status.startsWith('2') ? n : n + count),
    0,
  );
  const errors = result.errors;
  const wrong = (status: string) => (spec.expect ? status !== String(spec.expect) : !status.startsWith('2'));
  const unexpected = Object.entries(statusCounts).reduce((n, [status, count]) => (wrong(status) ? n + count : n), 0);
  const bad = unexpected + errors;
  const attempts = responses + errors;
  let invalidReason: string | undefined;
  if (responses === 0) invalidReason = 'no responses';
  else if (bad / attempts > INVALID_SHARE) {
    const codes = Object.entries(statusCounts)
      .filter(([s]) => wrong(s))
      .map(([s, n]) => `${n}×${s}`);
    invalidReason = [...codes, errors ? `${errors} errors (${result.timeouts} timeouts)` : '']
      .filter(Boolean)
      .join(', ');
  }
  return {
    key: spec.key,
    label: spec.label,
    seconds: result.duration,
    responses,
    rps: responses / result.duration,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    non2xx,
    errors,
    timeouts: result.timeouts,
    statusCounts,
    cpuUsPerReq: spec.pid && responses > 0 ? (cpuAfter - cpuBefore) / responses : null,
    dbCpuUsPerReq: spec.dbCommand && responses > 0 ? db / responses : null,
    valid: invalidReason === undefined,
    invalidReason,
    otherCpuPct,
    clientCpuPct: (100 * (oursUsage.user + oursUsage.system)) / wallMicros,
    serverPeakMiB: spec.pid ? memoryMiB(spec.pid, 'VmHWM') : null,
  };
}

/** CPU of a process that may have exited meanwhile (then: what it had, as far as we know, 0). */
function safeCpu(pid: number): number {
  try {
    return cpuMicros(pid);
  } catch {
    return 0;
  }
}
