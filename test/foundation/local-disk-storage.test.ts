import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobTooLargeError } from '../../server/src/core/storage/blob-storage.ts';
import { createLocalDiskStorage } from '../../server/src/core/storage/local-disk-storage.ts';

async function bytesOf(stream: Readable | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream!) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

describe('local disk storage', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'enclave-blobs-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  // Bytes in memory (pasted text) and streams (uploads) take different paths; both must agree.
  it.each([
    ['bytes in memory', (b: Buffer) => b],
    ['a stream', (b: Buffer) => Readable.from([b.subarray(0, 3), b.subarray(3)])],
  ])('stores %s, replacing what the key held, with the size and sha256 of what was written', async (_name, as) => {
    const storage = createLocalDiskStorage(root);
    await storage.put('documents/a/original', as(Buffer.from('first version')));
    const body = Buffer.from('年假 is 15 days');
    const info = await storage.put('documents/a/original', as(body));
    expect(info).toEqual({
      key: 'documents/a/original',
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(await bytesOf(await storage.get('documents/a/original'))).toEqual(body);
    expect(await filesUnder(root)).toEqual(['original']);
  });

  it.each([
    ['bytes in memory', (b: Buffer) => b],
    ['a stream', (b: Buffer) => Readable.from([b])],
  ])('refuses %s over maxBytes and leaves nothing behind', async (_name, as) => {
    const storage = createLocalDiskStorage(root);
    await expect(storage.put('documents/b/original', as(Buffer.alloc(11)), { maxBytes: 10 })).rejects.toBeInstanceOf(
      BlobTooLargeError,
    );
    expect(await storage.get('documents/b/original')).toBeUndefined();
    expect(await filesUnder(root)).toEqual([]);
  });
});
