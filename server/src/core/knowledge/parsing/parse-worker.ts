import { parentPort } from 'node:worker_threads';
import { parseDocument } from './parse.ts';
import { UnparseableError, type ParseableMime } from './parsed-document.ts';

/** Worker-thread side of the parser pool: one request at a time, answered by id. */
parentPort!.on('message', (message: { id: number; bytes: Uint8Array; mime: ParseableMime }) => {
  parseDocument(message.bytes, message.mime).then(
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
