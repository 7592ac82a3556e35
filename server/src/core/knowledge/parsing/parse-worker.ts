import { parentPort, workerData } from 'node:worker_threads';
import { createOcr, type OcrSettings } from './ocr.ts';
import { parseDocument } from './parse.ts';
import { UnparseableError, type ParseableMime } from './parsed-document.ts';

const settings = (workerData as { ocr?: OcrSettings } | undefined)?.ocr;
const ocr = settings ? createOcr(settings) : undefined;

/** Worker-thread side of the parser pool: one request at a time, answered by id. */
parentPort!.on('message', (message: { id: number; bytes: Uint8Array; mime: ParseableMime }) => {
  const options = {
    ...(ocr ? { ocr } : {}),
    onOcrPage: () => parentPort!.postMessage({ id: message.id, alive: true }),
  };
  parseDocument(message.bytes, message.mime, options).then(
    (result) => parentPort!.postMessage({ id: message.id, result }),
    (error: unknown) =>
      parentPort!.postMessage({
        id: message.id,
        error: {
          message: error instanceof Error ? error.message : String(error),
          unparseable: error instanceof UnparseableError,
        },
      }),
  );
});
