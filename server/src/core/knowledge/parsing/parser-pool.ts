import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { OcrSettings } from './ocr.ts';
import { UnparseableError, type ParsedDocument, type ParseableMime } from './parsed-document.ts';

interface Pending {
  resolve: (doc: ParsedDocument) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** Starts the time limit again (after each page OCR has read). */
  restart: () => void;
}

interface Slot {
  worker: Worker;
  busy: Map<number, Pending>;
  idle?: NodeJS.Timeout;
}

/** A parser thread's heap cap: a file needing more fails for good instead of taking the process down. */
export const PARSER_HEAP_MB = 384;

/**
 * A small pool of worker threads that parse files, so a 300-page PDF never stalls the event loop
 * (HTTP, WebSocket, BullMQ lock renewal). A parse that runs past `timeoutMs` or crashes its
 * thread rejects and the thread is replaced. A thread left idle for `idleMs` is ended, so the memory a
 * large file took goes back to the system instead of staying with the process. A scanned PDF read
 * by OCR (`ocr`; seconds a page) gets `timeoutMs` again after each page read: a 100-page scan
 * finishes, a parse stuck on one page does not.
 */
export function createParserPool(
  options: { size?: number; timeoutMs?: number; idleMs?: number; ocr?: OcrSettings } = {},
) {
  const size = options.size ?? Math.max(1, Math.min(2, os.availableParallelism() - 1));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const idleMs = options.idleMs ?? 10_000;
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(new URL('./parse-worker-bootstrap.mjs', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: PARSER_HEAP_MB },
      workerData: { ocr: options.ocr },
    });
    const slot: Slot = { worker, busy: new Map() };
    worker.unref();
    worker.on(
      'message',
      (message: {
        id: number;
        alive?: boolean;
        result?: ParsedDocument;
        error?: { message: string; unparseable: boolean };
      }) => {
        const pending = slot.busy.get(message.id);
        if (!pending) return;
        if (message.alive) return pending.restart();
        slot.busy.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error)
          pending.reject(
            message.error.unparseable ? new UnparseableError(message.error.message) : new Error(message.error.message),
          );
        else pending.resolve(message.result!);
      },
    );
    const fail = (error: Error) => {
      clearTimeout(slot.idle);
      for (const pending of slot.busy.values()) {
        clearTimeout(pending.timer);
        pending.reject(error);
      }
      slot.busy.clear();
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
    };
    worker.on('error', (error: Error & { code?: string }) =>
      fail(
        // Retrying would only run out of memory again.
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new UnparseableError(`The file needs more than ${PARSER_HEAP_MB} MB of memory to read; it was not indexed`)
          : new Error(`The parser crashed: ${error.message}`),
      ),
    );
    worker.on('exit', (code) => fail(new Error(`The parser stopped (exit code ${code})`)));
    slots.push(slot);
    return slot;
  }

  function pick(): Slot {
    const idle = slots.find((s) => s.busy.size === 0);
    if (idle) return idle;
    if (slots.length < size) return spawn();
    return slots.reduce((a, b) => (a.busy.size <= b.busy.size ? a : b));
  }

  return {
    parse(bytes: Uint8Array, mime: ParseableMime): Promise<ParsedDocument> {
      if (closed) return Promise.reject(new Error('The parser pool is closed'));
      const slot = pick();
      clearTimeout(slot.idle);
      const id = nextId++;
      return new Promise<ParsedDocument>((resolve, reject) => {
        const expire = () => {
          slot.busy.delete(id);
          reject(new UnparseableError(`Parsing took longer than ${Math.round(timeoutMs / 1000)} s`));
          void slot.worker.terminate();
        };
        const pending: Pending = {
          resolve,
          reject,
          timer: setTimeout(expire, timeoutMs),
          restart: () => {
            clearTimeout(pending.timer);
            pending.timer = setTimeout(expire, timeoutMs);
          },
        };
        slot.busy.set(id, pending);
        slot.worker.ref();
        slot.worker.postMessage({ id, bytes, mime });
      }).finally(() => {
        if (slot.busy.size > 0 || !slots.includes(slot)) return;
        slot.worker.unref();
        slot.idle = setTimeout(() => {
          // Out of the pool first, so no parse is handed to a thread that is stopping.
          slots.splice(slots.indexOf(slot), 1);
          void slot.worker.terminate();
        }, idleMs).unref();
      });
    },
    async close() {
      closed = true;
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}

export type ParserPool = ReturnType<typeof createParserPool>;
