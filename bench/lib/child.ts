import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemoryReading } from '../child/rpc.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Variables Enclave reads: never inherited by a measured child from the shell the bench runs in. */
const ENCLAVE_ENV =
  /^(NODE_ENV|HOST|PORT|PUBLIC_URL|DATA_DIR|LOG_LEVEL|DATABASE_URL|REDIS_URL|REDIS_PREFIX|TEST_DATABASE_URL|CHAT_MODEL|JOB_CONCURRENCY|SHUTDOWN_TIMEOUT_MS|BODY_LIMIT_KB|SESSION_.*|ADMIN_.*|OPENAI_.*|EMBEDDING_.*|OIDC_.*|AUDIT_.*|MODEL_.*)$/;

export interface ChildHandle {
  readonly pid: number;
  readonly url: string;
  readonly info: Record<string, unknown>;
  call<T = unknown>(op: string, args?: unknown, timeoutMs?: number): Promise<T>;
  memory(): Promise<MemoryReading & { vmRss: number }>;
  /** Stops gracefully (the `stop` op), SIGKILL after a deadline. */
  stop(): Promise<void>;
}

/** Resident set size from the kernel (what the OOM killer and `ps` see), in bytes. */
export function vmRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

let clockTicks: number | undefined;

/**
 * CPU time (ms) of every process named `command` on this machine, exited children included — e.g.
 * all of PostgreSQL's backends, to see what the database costs next to the server. Undefined where
 * `/proc` is not there.
 */
export function processCpuMs(command: string): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== command) continue;
      // Fields after the command: state is 3rd; utime, stime, cutime, cstime are 14th–17th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return (ticks * 1000) / clockTicks;
}

/**
 * Starts `bench/child/<script>` as `node --expose-gc --import tsx` with an IPC channel and waits
 * for its `ready` message. `env` is added to a copy of this environment without Enclave's variables.
 */
export async function startChild(
  script: string,
  env: Record<string, string>,
  options: { startTimeoutMs?: number } = {},
): Promise<ChildHandle> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!ENCLAVE_ENV.test(k)) childEnv[k] = v;
  Object.assign(childEnv, { LOG_LEVEL: 'silent', NODE_ENV: 'production' }, env);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', path.join(ROOT, 'bench/child', script)],
    {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${script} exited (${code ?? signal}) during a call\n${stderr}`));
      }
      pending.clear();
      resolve();
    }),
  );
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${options.startTimeoutMs ?? 90_000} ms\n${stderr}`)),
      options.startTimeoutMs ?? 90_000,
    );
    child.on('message', (raw) => {
      const m = raw as { id?: number; result?: unknown; error?: string; ready?: boolean; failed?: string };
      if (m.ready) {
        clearTimeout(timer);
        resolve(m as Record<string, unknown>);
      } else if (m.failed) {
        clearTimeout(timer);
        reject(new Error(`${script} failed to start: ${m.failed}`));
      } else if (m.id !== undefined) {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error) p.reject(new Error(`${script} ${m.error}`));
        else p.resolve(m.result);
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready\n${stderr}`));
    });
  });
  let info: Record<string, unknown>;
  try {
    info = await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const call = <T>(op: string, args?: unknown, timeoutMs = 600_000) =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`${script} is not running`));
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${script}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      child.send({ id, op, args });
    });
  return {
    pid: child.pid!,
    url: info.url as string,
    info,
    call,
    async memory() {
      const reading = await call<MemoryReading>('memory');
      return { ...reading, vmRss: vmRss(child.pid!) };
    },
    async stop() {
      if (exited) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await call('stop', undefined, 15_000).catch(() => child.kill('SIGKILL'));
      await exit;
      clearTimeout(killer);
    },
  };
}
