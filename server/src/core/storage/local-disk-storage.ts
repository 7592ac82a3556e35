import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, BlobTooLargeError, type BlobStorage } from './blob-storage.ts';

/**
 * Blob storage on the local disk under `root` (DATA_DIR/files). Writes go to a temporary file
 * beside the target and are renamed into place, so a crash mid-write leaves no partial blob.
 */
export function createLocalDiskStorage(rootDir: string): BlobStorage {
  const root = path.resolve(rootDir);
  const fileOf = (key: string) => {
    assertValidKey(key);
    return path.join(root, ...key.split('/'));
  };

  return {
    async put(key, data, options = {}) {
      if (Buffer.isBuffer(data) && options.maxBytes !== undefined && data.length > options.maxBytes)
        throw new BlobTooLargeError(options.maxBytes);
      const target = fileOf(key);
      await mkdir(path.dirname(target), { recursive: true });
      const temp = `${target}.${randomBytes(6).toString('hex')}.partial`;
      try {
        // Bytes already in memory (pasted text, a fetched page) need no stream machinery.
        const written = Buffer.isBuffer(data)
          ? await writeBytes(temp, data)
          : await writeStream(temp, data, options.maxBytes);
        await rename(temp, target);
        return { key, ...written };
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
    async get(key) {
      const file = fileOf(key);
      try {
        await stat(file);
      } catch {
        return undefined;
      }
      return createReadStream(file);
    },
    async delete(key) {
      const file = fileOf(key);
      await rm(file, { force: true });
      // Prune directories the key leaves empty, so a deleted document leaves no trace behind.
      for (let dir = path.dirname(file); dir.startsWith(root + path.sep) && dir !== root; dir = path.dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break; // not empty (or already gone)
        }
      }
    },
    async stat(key) {
      try {
        const s = await stat(fileOf(key));
        return { size: s.size, modifiedAt: s.mtime };
      } catch {
        return undefined;
      }
    },
  };
}

async function writeBytes(file: string, bytes: Buffer): Promise<{ size: number; sha256: string }> {
  await writeFile(file, bytes, { flag: 'wx' });
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Streams `source` into `file`, measuring and hashing it, failing past `maxBytes`. */
async function writeStream(
  file: string,
  source: Readable,
  maxBytes: number | undefined,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (maxBytes !== undefined && size > maxBytes) {
        callback(new BlobTooLargeError(maxBytes));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  // The source is piped, not handed to pipeline(): on failure it must stay intact (an upload's
  // remaining bytes are drained so the HTTP response can still be written), not be destroyed.
  const sourceFailed = new Promise<never>((_resolve, reject) => source.once('error', reject));
  sourceFailed.catch(() => {});
  source.pipe(meter);
  try {
    await Promise.race([pipeline(meter, createWriteStream(file, { flags: 'wx' })), sourceFailed]);
  } catch (error) {
    source.unpipe(meter);
    meter.destroy();
    source.resume();
    throw error;
  }
  return { size, sha256: hash.digest('hex') };
}
