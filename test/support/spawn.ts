import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Child processes for process-level tests (start-up, shutdown, crashes). Each child leads its own
 * process group so a stop or a kill reaches everything it started, and every child still running
 * when a test file ends is killed (call `killAllChildren` in afterEach/afterAll; a process exit
 * hook backs that up).
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TSX_CLI = path.join(ROOT, 'node_modules/.bin/tsx');

export interface LogLine {
  msg?: string;
  level?: number;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedProcess {
  child: ChildProcess;
  readonly pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** stdout lines that parsed as JSON objects (pino log lines). */
  logs(): LogLine[];
  /** Resolves with the first JSON log line (already seen or to come) matching; rejects on exit or timeout. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when stdout matches the pattern; rejects on exit or timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  waitForExit(timeoutMs?: number): Promise<Exit>;
  /** SIGTERM, then the exit; SIGKILLs the group and rejects if it has not exited by the deadline. */
  stop(timeoutMs?: number): Promise<Exit>;
  /** SIGKILL to the whole process group, as the OOM killer or `kill -9` would. */
  kill(): Promise<Exit>;
}

const live = new Set<SpawnedProcess>();

process.once('exit', () => {
  for (const p of live) killGroup(p.pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** The parent's environment without any variable Enclave reads, plus `overrides` (undefined removes). */
export function childEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const enclave =
    /^(NODE_ENV|HOST|PORT|PUBLIC_URL|DATA_DIR|LOG_LEVEL|DATABASE_URL|REDIS_URL|TEST_DATABASE_URL|CHAT_MODEL|JOB_CONCURRENCY|SHUTDOWN_TIMEOUT_MS|BODY_LIMIT_KB|SESSION_.*|ADMIN_.*|OPENAI_.*|EMBEDDING_.*|OIDC_.*|AUDIT_.*)$/;
  for (const name of Object.keys(env)) if (enclave.test(name)) delete env[name];
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function tail(text: string, chars = 2000) {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}

/**
 * Runs a TypeScript entry point. `via: 'node'` (default) is one process, `node --import tsx`, so
 * signals reach Enclave itself; `via: 'tsx-cli'` is `node_modules/.bin/tsx`, the npm scripts' way,
 * which wraps the program in a second process that relays signals.
 */
export function spawnTs(
  script: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; via?: 'node' | 'tsx-cli' },
): SpawnedProcess {
  const [command, prefix] = options.via === 'tsx-cli' ? [TSX_CLI, []] : [process.execPath, ['--import', 'tsx']];
  return spawnProcess(command, [...prefix, script, ...args], options.env);
}

export function spawnProcess(command: string, args: string[], env: NodeJS.ProcessEnv): SpawnedProcess {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`Could not start ${command}`);
  const pid = child.pid;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let out = '';
  let err = '';
  let partial = '';
  const logs: LogLine[] = [];
  let exited: Exit | undefined;

  child.stdout!.setEncoding('utf8').on('data', (data: string) => {
    out += data;
    partial += data;
    let newline: number;
    while ((newline = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, newline).trim();
      partial = partial.slice(newline + 1);
      if (line.startsWith('{')) {
        try {
          const parsed = JSON.parse(line) as unknown;
          if (parsed && typeof parsed === 'object') logs.push(parsed as LogLine);
        } catch {
          // Not a log line.
        }
      }
    }
    events.emit('output');
  });
  child.stderr!.setEncoding('utf8').on('data', (data: string) => {
    err += data;
  });
  const exit = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      exited = { code, signal };
      live.delete(spawned);
      events.emit('exit');
      resolve(exited);
    });
  });

  const describe = () => `${path.basename(args.find((a) => a.endsWith('.ts')) ?? command)} (pid ${pid})`;
  const diagnostics = () => `\n--- stdout ---\n${tail(out)}\n--- stderr ---\n${tail(err)}`;

  function waitUntil<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) return finish(() => resolve(found));
        if (exited) {
          return finish(() =>
            reject(new Error(`${describe()} exited (${JSON.stringify(exited)}) before ${what}${diagnostics()}`)),
          );
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${describe()}: no ${what} within ${timeoutMs} ms${diagnostics()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        events.off('output', check);
        events.off('exit', check);
        settle();
      };
      events.on('output', check);
      events.on('exit', check);
      check();
    });
  }

  const spawned: SpawnedProcess = {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    logs: () => logs,
    waitForLog: (predicate, timeoutMs = 30_000) =>
      waitUntil(() => logs.find(predicate), 'matching log line', timeoutMs),
    waitForOutput: (pattern, timeoutMs = 30_000) =>
      waitUntil(() => out.match(pattern) ?? undefined, `output matching ${pattern}`, timeoutMs),
    async waitForExit(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        exit,
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!result) throw new Error(`${describe()} did not exit within ${timeoutMs} ms${diagnostics()}`);
      return result;
    },
    async stop(timeoutMs = 15_000) {
      if (exited) return exited;
      // The process itself, not its group: that is what `docker stop` and Kubernetes do.
      child.kill('SIGTERM');
      try {
        return await spawned.waitForExit(timeoutMs);
      } catch (error) {
        killGroup(pid, 'SIGKILL');
        await exit;
        throw error;
      }
    },
    async kill() {
      killGroup(pid, 'SIGKILL');
      return exit;
    },
  };
  live.add(spawned);
  return spawned;
}

/** SIGKILLs every child still running (test clean-up). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}
