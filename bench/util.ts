import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** The repository root (bench/ lives directly under it). */
export const REPO = resolve(__dirname, '..');

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of an already sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Runs a command to completion with its output appended to a log file (migrations and the build
 * are chatty); rejects with the log's tail when it fails.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): Promise<void> {
  const fd = openSync(options.logFile, 'a');
  return new Promise<void>((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd] });
    child.on('error', (error) => {
      closeSync(fd);
      fail(error);
    });
    child.on('exit', (code, signal) => {
      closeSync(fd);
      if (code === 0) done();
      else
        fail(
          new Error(
            `${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}); log ${options.logFile}:\n${tail(options.logFile)}`,
          ),
        );
    });
  });
}

const handedOut = new Set<number>();

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    // No host, like the server's app.listen(port): the dual-stack wildcard address.
    probe.listen(port, () => probe.close(() => done(true)));
  });
}

/**
 * A free port in 5200-5299: the other engineer's servers use 5000-5099, and a fixed range keeps
 * the bench's servers easy to spot (ss -ltnp).
 */
export async function freePort(): Promise<number> {
  for (let port = 5200; port <= 5299; port++) {
    if (handedOut.has(port)) continue;
    if (await portIsFree(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('No free port in 5200-5299');
}

let ticks: number | undefined;

/** Clock ticks per second, the unit of utime/stime in /proc/<pid>/stat (normally 100). */
export function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticks;
}

/**
 * CPU time the process has used so far, user + system, in microseconds: fields 14 and 15 of
 * /proc/<pid>/stat, which count every thread of the process (libuv's pool, where bcrypt runs, too).
 */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces; count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clockTicks();
}

/**
 * CPU time of every process with this command name (`postgres`): user + system of each, plus the
 * time of children they have reaped, so a backend that exits mid-run still counts (the postmaster
 * reaps it and inherits its time).
 */
export function commandCpuMicros(command: string): number {
  let ticksSum = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== command) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticksSum += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // exited while we looked
    }
  }
  return (ticksSum * 1e6) / clockTicks();
}

/**
 * The whole machine's CPU time so far from /proc/stat, in microseconds: busy (user, nice, system,
 * irq, softirq, steal) and total (busy plus idle and iowait), summed over all cores.
 */
export function machineCpuMicros(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + (steal || 0);
  const scale = 1e6 / clockTicks();
  return { busy: busy * scale, total: (busy + idle + iowait) * scale };
}

/** A memory figure of /proc/<pid>/status (VmRSS, VmHWM, ...), in MiB. */
export function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`${field} not found in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Least-squares slope of (minute, MiB) points. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/**
 * The lowest point of each whole minute: RSS under load is a sawtooth (the heap grows until a
 * collection), so growth that stays shows in the floor, while one sample caught at a peak does not.
 */
export function floorPoints(points: Array<[number, number]>): Array<[number, number]> {
  const byMinute = new Map<number, [number, number]>();
  for (const [x, y] of points) {
    const minute = Math.floor(x);
    const kept = byMinute.get(minute);
    if (!kept || y < kept[1]) byMinute.set(minute, [x, y]);
  }
  return [...byMinute.values()];
}
