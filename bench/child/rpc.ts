import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The IPC protocol between the bench (parent) and the processes it measures (the Enclave server,
 * the raw `ws` baseline). The parent sends `{id, op, args}`; the child answers `{id, result}` or
 * `{id, error}`. Shared ops: memory (after forced GCs) and CPU profiling.
 */
export interface RpcRequest {
  id: number;
  op: string;
  args?: unknown;
}

export type RpcHandler = (args: unknown) => Promise<unknown> | unknown;

export interface MemoryReading {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function readMemory(): Promise<MemoryReading> {
  await collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

let profiler: Session | undefined;
let gcWatch: { observer: PerformanceObserver; pauses: { ms: number; kind: number }[] } | undefined;

export function serveRpc(handlers: Record<string, RpcHandler>): void {
  const all: Record<string, RpcHandler> = {
    memory: () => readMemory(),
    /** CPU time this process has used (µs, all threads): read before and after a window of traffic. */
    cpu: () => process.cpuUsage(),
    /** Garbage-collection pauses over a window: a tail latency's usual suspect. */
    gcStart() {
      const pauses: { ms: number; kind: number }[] = [];
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries())
          pauses.push({ ms: entry.duration, kind: (entry as { detail?: { kind?: number } }).detail?.kind ?? 0 });
      });
      observer.observe({ entryTypes: ['gc'] });
      gcWatch = { observer, pauses };
      return true;
    },
    gcStop() {
      if (!gcWatch) return undefined;
      const { observer, pauses } = gcWatch;
      observer.disconnect();
      gcWatch = undefined;
      const ms = pauses.map((p) => p.ms);
      // perf_hooks' kinds: 1 minor (scavenge), 2 major (mark-compact), 4 incremental, 8 weak callbacks.
      const longest = pauses.reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, kind: 0 });
      return {
        count: ms.length,
        totalMs: ms.reduce((a, b) => a + b, 0),
        maxMs: longest.ms,
        maxKind: longest.kind,
        over5Ms: ms.filter((m) => m > 5).length,
        major: pauses.filter((p) => p.kind === 2).length,
      };
    },
    async profileStart() {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
      await profiler.post('Profiler.start');
      return true;
    },
    async profileStop(args) {
      if (!profiler) return false;
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      const { file } = args as { file: string };
      // A fresh clone has no bench/results yet: --profile writes before the first report does.
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      return true;
    },
    ...handlers,
  };
  process.on('message', (raw) => {
    const request = raw as RpcRequest;
    const handler = all[request.op];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown op ${request.op}`);
        const result = await handler(request.args);
        process.send?.({ id: request.id, result: result ?? null });
      } catch (error) {
        process.send?.({
          id: request.id,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    })();
  });
  // The bench going away (crash, Ctrl-C) takes its children with it.
  process.on('disconnect', () => process.exit(0));
}
