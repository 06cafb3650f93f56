import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunResult } from './load';
import { median } from './util';

/** One row of the final table: a route over all its rounds. */
export interface RouteSummary {
  key: string;
  label: string;
  rounds: number;
  /** Every round valid; otherwise no speed is reported at all. */
  valid: boolean;
  invalidReason?: string;
  rps: number | null;
  /** Median over rounds of (this route's req/s ÷ GET /health/live's in the same round). */
  ratioToLive: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  cpuUsPerReq: number | null;
  dbCpuUsPerReq: number | null;
  responses: number;
  non2xx: number;
  non2xxPct: number;
  errors: number;
  /** Median share of the machine's CPU taken by other processes during the runs. */
  otherCpuPct: number;
  /** Median CPU of the bench process (the load generator), in % of one core. */
  clientCpuPct: number;
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  pass: boolean;
}

/**
 * Medians over the rounds. `live` are the same rounds of the liveness route, index for index, so
 * each ratio compares two runs made a few seconds apart under the same machine conditions.
 */
export function summarize(key: string, label: string, runs: RunResult[], live?: RunResult[]): RouteSummary {
  const responses = runs.reduce((n, r) => n + r.responses, 0);
  const non2xx = runs.reduce((n, r) => n + r.non2xx, 0);
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  const invalid = runs.filter((r) => !r.valid);
  const valid = runs.length > 0 && invalid.length === 0;
  const ratios = live
    ? runs.map((r, i) => (live[i]?.valid ? r.rps / live[i].rps : NaN)).filter((x) => Number.isFinite(x))
    : [];
  const cpu = runs.map((r) => r.cpuUsPerReq).filter((x): x is number => x !== null);
  const dbCpu = runs.map((r) => r.dbCpuUsPerReq).filter((x): x is number => x !== null);
  return {
    key,
    label,
    rounds: runs.length,
    valid,
    invalidReason: valid ? undefined : invalid.map((r) => r.invalidReason).join('; '),
    rps: valid ? median(runs.map((r) => r.rps)) : null,
    ratioToLive: valid && ratios.length > 0 ? median(ratios) : null,
    p50Ms: valid ? median(runs.map((r) => r.p50Ms)) : null,
    p99Ms: valid ? median(runs.map((r) => r.p99Ms)) : null,
    cpuUsPerReq: valid && cpu.length > 0 ? median(cpu) : null,
    dbCpuUsPerReq: valid && dbCpu.length > 0 ? median(dbCpu) : null,
    responses,
    non2xx,
    non2xxPct: responses + errors > 0 ? (100 * non2xx) / (responses + errors) : 0,
    errors,
    otherCpuPct: median(runs.map((r) => r.otherCpuPct)),
    clientCpuPct: median(runs.map((r) => r.clientCpuPct)),
  };
}

/** Above this, a row is marked noisy: other processes took a real share of the machine. */
export const NOISY_OTHER_CPU_PCT = 10;

/** Above this (% of one core), the load generator itself was the limit, not the server. */
export const CLIENT_BOUND_PCT = 90;

const num = (value: number | null, digits: number) =>
  value === null || !Number.isFinite(value) ? '—' : value.toFixed(digits);
const ms = (value: number | null) => (value === null ? '—' : value < 10 ? value.toFixed(2) : value.toFixed(1));

export function markdownTable(rows: RouteSummary[]): string {
  const lines = [
    '| Route | req/s | × /health/live | p50 ms | p99 ms | CPU µs/req | non-2xx | valid |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const bad = `${r.non2xx}${r.errors ? ` + ${r.errors} err` : ''} (${r.non2xxPct.toFixed(2)} %)`;
    const noisy =
      (r.otherCpuPct > NOISY_OTHER_CPU_PCT ? `; noisy: others took ${r.otherCpuPct.toFixed(0)} % CPU` : '') +
      (r.clientCpuPct > CLIENT_BOUND_PCT
        ? `; client-bound: autocannon at ${r.clientCpuPct.toFixed(0)} % of a core`
        : '');
    const valid = (r.valid ? `yes (${r.rounds})` : `**INVALID**: ${r.invalidReason}`) + noisy;
    lines.push(
      `| ${r.label} | ${num(r.rps, 0)} | ${num(r.ratioToLive, 3)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${num(r.cpuUsPerReq, 0)}${r.dbCpuUsPerReq !== null ? ` (+${r.dbCpuUsPerReq.toFixed(0)} db)` : ''} | ${bad} | ${valid} |`,
    );
  }
  return lines.join('\n');
}

export function targetLines(targets: Target[]): string {
  return targets
    .map((t) => `- ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: target ${t.target}, measured ${t.measured}`)
    .join('\n');
}

export function writeJson(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
