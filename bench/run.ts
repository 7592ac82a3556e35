import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evalData } from '../server/src/cli/eval-data.ts';
import { createDeployment, defaultBackends, disposeTemplate, type BackendName } from './lib/backends.ts';
import { machineInfo, renderTable, writeResult, type ScenarioResult } from './lib/report.ts';
import type { Scenario } from './lib/scenario.ts';
import { answers } from './scenarios/answers.ts';
import { fanout } from './scenarios/fanout.ts';
import { ingestion } from './scenarios/ingestion.ts';
import { queue } from './scenarios/queue.ts';
import { retrieval } from './scenarios/retrieval.ts';

/**
 * `npm run bench [-- <scenario>…] [--backend embedded|postgres|both] [--quick] [--profile]`
 *
 * Every scenario measures Enclave and a baseline in the same run on the same machine and reports
 * their ratio (absolute times on shared machines drift). Results: a table per scenario on stdout,
 * JSON under bench/results/. Each scenario is bounded in time; all traffic stays on 127.0.0.1.
 */
export const SCENARIOS: Scenario[] = [fanout, retrieval, ingestion, answers, queue];

export interface RunOptions {
  scenarios: string[];
  backends: BackendName[];
  quick: boolean;
  profile: boolean;
  log?: (message: string) => void;
}

export function parseArgs(argv: string[]): RunOptions {
  const names: string[] = [];
  let backend: string | undefined;
  let quick = false;
  let profile = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--profile') profile = true;
    else if (a === '--backend') backend = argv[++i];
    else if (a.startsWith('--backend=')) backend = a.slice('--backend='.length);
    else if (a.startsWith('--')) throw new Error(`Unknown option ${a}`);
    else names.push(a);
  }
  for (const n of names)
    if (!SCENARIOS.some((s) => s.name === n))
      throw new Error(`Unknown scenario "${n}" (have: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  let backends: BackendName[];
  if (!backend) backends = defaultBackends();
  else if (backend === 'both') backends = ['embedded', 'postgres'];
  else if (backend === 'embedded' || backend === 'postgres') backends = [backend];
  else throw new Error(`--backend must be embedded, postgres or both (got ${backend})`);
  return { scenarios: names.length ? names : SCENARIOS.map((s) => s.name), backends, quick, profile };
}

/** Runs the chosen scenarios on the chosen backends, each on a fresh deployment; returns every result. */
export async function runBench(options: RunOptions): Promise<ScenarioResult[]> {
  const log = options.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const results: ScenarioResult[] = [];
  const m = machineInfo();
  log(
    `Enclave bench — ${m.cpus} cpus, ${m.memoryGiB} GiB, node ${m.node}, load ${m.loadAvg.join(' ')}${options.quick ? ', quick' : ''}`,
  );
  log(evalData().note);
  try {
    for (const backend of options.backends) {
      for (const name of options.scenarios) {
        const scenario = SCENARIOS.find((s) => s.name === name)!;
        log(`\n▶ ${name} on ${backend}`);
        const started = Date.now();
        const deployment = await createDeployment(backend, name);
        try {
          const result = await scenario.run({ deployment, quick: options.quick, profile: options.profile, log });
          result.startedAt = new Date(started).toISOString();
          result.seconds = Math.round((Date.now() - started) / 100) / 10;
          result.machine = {
            ...machineInfo(),
            ...result.machine,
            loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
          };
          const file = await writeResult(result);
          log(`\n${renderTable(result)}\n(${result.seconds} s, load ${result.machine.loadAvg.join(' ')}; ${file})`);
          results.push(result);
        } finally {
          await deployment.dispose();
        }
      }
    }
  } finally {
    await disposeTemplate();
  }
  return results;
}

const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const started = Date.now();
  // Ctrl-C or a kill still runs the exit hooks (the PGlite template directory is removed); children
  // leave on their own when their IPC channel closes.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  runBench(parseArgs(process.argv.slice(2)))
    .then(() => {
      process.stdout.write(`\nDone in ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(
        `Benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    });
}
