import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './child.ts';

/** One line of a scenario's table: Enclave's figure beside the same-run baseline and their ratio. */
export interface Row {
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  /** value ÷ baseline, or another comparison named in `note`. */
  ratio?: number;
  /** Human-readable target, e.g. "≤ 3×". */
  target?: string;
  ok?: boolean;
  note?: string;
}

export interface ScenarioResult {
  scenario: string;
  backend: string;
  quick: boolean;
  /** What the baseline is, in a sentence. */
  baseline: string;
  rows: Row[];
  /** Time per stage of the scenario's pipeline (ms, per operation unless said), and the slowest. */
  stages?: Record<string, number>;
  slowestStage?: string;
  details?: Record<string, unknown>;
  machine?: MachineInfo;
  startedAt?: string;
  seconds?: number;
}

export interface MachineInfo {
  cpus: number;
  memoryGiB: number;
  node: string;
  loadAvg: number[];
}

export function machineInfo(): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function fmt(n: number | undefined, digits?: number): string {
  if (n === undefined || Number.isNaN(n)) return '–';
  const d = digits ?? (Number.isInteger(n) || Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function renderTable(result: ScenarioResult): string {
  const header = ['metric', 'Enclave', 'baseline', 'ratio', 'target', ''];
  const body = result.rows.map((r) => [
    r.metric,
    `${fmt(r.value)} ${r.unit}`.trim(),
    r.baseline === undefined ? '' : `${fmt(r.baseline)} ${r.unit}`.trim(),
    r.ratio === undefined ? '' : `${fmt(r.ratio)}×`,
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'ok' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [
    `### ${result.scenario} — ${result.backend}${result.quick ? ' (quick)' : ''}`,
    `baseline: ${result.baseline}`,
    '',
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ];
  const notes = result.rows.filter((r) => r.note).map((r) => `- ${r.metric}: ${r.note}`);
  if (notes.length) out.push('', ...notes);
  if (result.stages) {
    out.push(
      '',
      `stages: ${Object.entries(result.stages)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(' · ')}${result.slowestStage ? ` — slowest: ${result.slowestStage}` : ''}`,
    );
  }
  return out.join('\n');
}

export const RESULTS_DIR = path.join(ROOT, 'bench/results');

export async function writeResult(result: ScenarioResult): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.scenario}-${result.backend}${result.quick ? '-quick' : ''}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** The stage with the largest time. */
export function slowest(stages: Record<string, number>): string | undefined {
  return Object.entries(stages).sort((a, b) => b[1] - a[1])[0]?.[0];
}
