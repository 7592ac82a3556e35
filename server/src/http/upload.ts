import type { Request } from 'express';
import multer from 'multer';
import type { Readable } from 'node:stream';
import { isUnstorableText } from '../core/db/storable-text.ts';
import { AppError } from '../core/errors.ts';

/**
 * Streams the single multipart field `file` into `handle` (which stores it, size-capped) through a
 * multer storage engine, so an upload is never buffered whole in memory. A declared body already
 * over the limit is refused before reading it.
 */
export function receiveFile<T>(
  req: Request,
  maxBytes: number,
  handle: (file: { stream: Readable; filename: string }) => Promise<T>,
): Promise<T> {
  const declared = Number(req.get('content-length') ?? '0');
  // A multipart body carries a little framing besides the file.
  if (declared > maxBytes + 64 * 1024) {
    return Promise.reject(
      new AppError(
        413,
        'payload_too_large',
        `The file is larger than the upload limit of ${Math.round(maxBytes / 1048576)} MB`,
      ),
    );
  }
  let result: { value: T } | undefined;
  // Our own failure (413, 415 …) wins over what busboy reports about the stream we stopped reading.
  let failure: unknown;
  const storage: multer.StorageEngine = {
    _handleFile(_request, file, callback) {
      // Browsers send UTF-8 file names; busboy decodes them as latin1.
      const filename = Buffer.from(file.originalname, 'latin1').toString('utf8');
      if (isUnstorableText(filename) || /[\u0000-\u001f\u007f]/.test(filename)) {
        failure = new AppError(400, 'invalid_text', 'The file name must not contain control characters');
        file.stream.resume();
        return callback(failure as Error);
      }
      handle({ stream: file.stream, filename }).then(
        (value) => {
          result = { value };
          callback(null, {});
        },
        (error: unknown) => {
          failure = error;
          callback(error as Error);
        },
      );
    },
    _removeFile(_request, _file, callback) {
      callback(null);
    },
  };
  const upload = multer({ storage, limits: { files: 1, fields: 10, fieldSize: 64 * 1024 } }).single('file');
  return new Promise((resolve, reject) => {
    upload(req, req.res!, (error: unknown) => {
      if (failure) return reject(failure);
      if (error instanceof AppError) return reject(error);
      if (error instanceof multer.MulterError)
        return reject(new AppError(400, 'bad_request', `Upload refused: ${error.message}`));
      // Anything else busboy reports is about the body the client sent (no boundary, a cut-off part …).
      if (error)
        return reject(
          new AppError(400, 'bad_request', `Malformed multipart body: ${(error as Error).message ?? String(error)}`),
        );
      if (!result) return reject(new AppError(400, 'invalid_input', 'Send the file as the multipart field "file"'));
      resolve(result.value);
    });
  });
}
