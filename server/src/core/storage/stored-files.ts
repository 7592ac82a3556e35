import path from 'node:path';
import type { Config } from '../../config.ts';
import type { BlobStorage } from './blob-storage.ts';
import { createLocalDiskStorage } from './local-disk-storage.ts';

/**
 * Where original files (uploaded documents, attachments) live: DATA_DIR/files, shared by every
 * server and worker process (one volume when there are several), swept by retention, archived by
 * backups. Decided here only.
 */
export function storedFilesDir(dataDir: string): string {
  return path.join(dataDir, 'files');
}

export function createFileStorage(config: Pick<Config, 'dataDir'>): BlobStorage {
  return createLocalDiskStorage(storedFilesDir(config.dataDir));
}
