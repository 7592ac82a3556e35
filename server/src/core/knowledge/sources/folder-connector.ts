import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../errors.ts';
import { sniffMime } from '../parsing/sniff.ts';
import type { Connector } from './connector.ts';

/** Files a folder sync lists at most, and how deep it goes. */
const MAX_FILES = 5000;
const MAX_DEPTH = 16;

const within = (root: string, target: string) => target === root || target.startsWith(root + path.sep);

/**
 * The directory a folder source may sync, resolved (`..` and symlinks followed): it must be a
 * directory under one of SYNC_ALLOWED_ROOTS, resolved the same way. Anything else is a 400 that
 * says why.
 */
export async function allowedFolder(requested: string, allowedRoots: readonly string[]): Promise<string> {
  if (!allowedRoots.length)
    throw new AppError(400, 'folder_sync_disabled', 'Folder sync is off: no directory is listed in SYNC_ALLOWED_ROOTS');
  if (!path.isAbsolute(requested)) throw new AppError(400, 'bad_path', 'The folder must be an absolute path');
  const outside = () =>
    new AppError(
      400,
      'path_not_allowed',
      `${requested} is outside the directories folder sync may read (SYNC_ALLOWED_ROOTS: ${allowedRoots.join(', ')})`,
    );
  let real: string;
  try {
    real = await realpath(requested);
  } catch {
    // Only say it is missing when it would have been allowed: no probing of other paths.
    if (!allowedRoots.some((root) => within(path.resolve(root), path.resolve(requested)))) throw outside();
    throw new AppError(400, 'folder_not_found', `${requested} does not exist`);
  }
  const roots = await Promise.all(allowedRoots.map((root) => realpath(root).catch(() => undefined)));
  if (!roots.some((root) => root && within(root, real))) throw outside();
  if (!(await stat(real)).isDirectory()) throw new AppError(400, 'not_a_directory', `${requested} is not a directory`);
  return real;
}

/**
 * A directory on the server: every regular file under it (hidden ones and links leading outside it
 * skipped), keyed by its path relative to the directory, its marker the size and modification
 * time. `root` has passed `allowedFolder`; each file is checked to resolve inside it again.
 */
export function folderConnector(root: string, limits: { maxBytes: number }): Connector {
  async function resolveInside(key: string): Promise<string | undefined> {
    const full = path.resolve(root, key);
    if (!within(root, full)) return undefined;
    const real = await realpath(full);
    return within(root, real) ? real : undefined;
  }

  return {
    async list() {
      const items: { key: string; marker: string | null }[] = [];
      const failures: { key: string; reason: string }[] = [];
      const walk = async (dir: string, depth: number): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          if (items.length >= MAX_FILES) return;
          if (entry.name.startsWith('.')) continue;
          const full = path.join(dir, entry.name);
          const key = path.relative(root, full);
          if (entry.isDirectory()) {
            if (depth < MAX_DEPTH) await walk(full, depth + 1);
            continue;
          }
          if (!entry.isFile() && !entry.isSymbolicLink()) continue;
          const real = await resolveInside(key).catch(() => undefined);
          if (!real) {
            if (entry.isSymbolicLink()) failures.push({ key, reason: 'A link that leads outside the folder' });
            continue;
          }
          // Removed between the directory read and now: it is not there.
          const info = await stat(real).catch(() => undefined);
          if (!info?.isFile()) continue;
          items.push({ key, marker: `${info.size}:${info.mtimeMs}` });
        }
      };
      await walk(root, 0);
      if (items.length >= MAX_FILES)
        failures.push({ key: '.', reason: `Only the first ${MAX_FILES} files are synced` });
      return { items, failures };
    },
    async fetch(key, known) {
      let real: string | undefined;
      try {
        real = await resolveInside(key);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone', reason: 'removed' };
        throw error;
      }
      if (!real) return { state: 'gone', reason: 'outside_folder' };
      const handle = await open(real, 'r');
      try {
        const info = await handle.stat();
        const marker = `${info.size}:${info.mtimeMs}`;
        if (known?.marker === marker) return { state: 'unchanged', marker };
        if (info.size > limits.maxBytes)
          throw new Error(`The file is larger than the limit of ${Math.round(limits.maxBytes / 1048576)} MB`);
        const bytes = await handle.readFile();
        const name = path.basename(key);
        return {
          state: 'content',
          bytes,
          mime: sniffMime(bytes.subarray(0, 8192), name),
          title: name.replace(/\.[a-z0-9]{1,5}$/i, '') || name,
          marker,
        };
      } finally {
        await handle.close();
      }
    },
  };
}
