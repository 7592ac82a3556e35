import type { Readable } from 'node:stream';

/** Stored bytes under an opaque key ("documents/<id>/original", "attachments/…"). */
export interface BlobInfo {
  key: string;
  size: number;
  sha256: string;
}

export interface PutOptions {
  /** The write stops, nothing is left behind, and BlobTooLargeError is thrown past this many bytes. */
  maxBytes?: number;
}

/**
 * Where original files live (uploaded documents, message attachments). Keys are relative paths of
 * `[A-Za-z0-9._-]` segments separated by `/`; a put replaces atomically (readers see the old or the
 * new bytes, never half of them).
 */
export interface BlobStorage {
  put(key: string, data: Readable | Buffer, options?: PutOptions): Promise<BlobInfo>;
  /** The bytes as a stream; undefined when the key holds nothing. */
  get(key: string): Promise<Readable | undefined>;
  /** Resolves even when nothing was stored under the key. */
  delete(key: string): Promise<void>;
  stat(key: string): Promise<{ size: number; modifiedAt: Date } | undefined>;
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The content is larger than the limit of ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Rejects keys that could escape the storage root or mean different files on different systems. */
export function assertValidKey(key: string): void {
  const segments = key.split('/');
  if (!key || segments.length > 16 || segments.some((s) => !SEGMENT.test(s) || s === '..' || s === '.')) {
    throw new Error(`Invalid storage key "${key}"`);
  }
}
