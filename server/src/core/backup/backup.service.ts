import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import * as tar from 'tar';
import type { Database } from '../db/database.ts';
import { switchEmbeddingSpace } from '../db/embedding-space.ts';
import { migrate, readMigrations, type Migration } from '../db/migrator.ts';
import { storedFilesDir } from '../storage/stored-files.ts';
import { createBackupRepository, dependencyOrder } from './backup.repository.ts';

/**
 * One archive (tar.gz) holding a logical dump of the database, the stored files and a manifest:
 *
 *   manifest.json           versions, migrations, embedding space, row counts, checksums
 *   db/<table>.jsonl        one JSON object per row (row_to_json), tables in dependency order
 *   files/<key>             DATA_DIR/files as stored
 *
 * Rows are read in one REPEATABLE READ transaction, so the dump is a consistent snapshot. A
 * restore goes into an empty database: migrations up to the archive's version, the embedding
 * column retyped to the archive's dimension, every table loaded in one transaction (identity
 * values kept, sequences set back where they were, vector indexes rebuilt after the load rather
 * than filled row by row), then any newer migrations.
 */

export const BACKUP_FORMAT = 'enclave-backup';
export const BACKUP_FORMAT_VERSION = 1;
/** Tables the restore recreates itself rather than loading (the migrator's bookkeeping). */
const NOT_DUMPED = new Set(['schema_migrations']);

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  enclaveVersion: string;
  createdAt: string;
  source: { database: 'postgres' | 'pglite'; serverVersion: string };
  migrations: { version: number; name: string; checksum: string }[];
  embeddingSpace: { model: string; dimensions: number } | null;
  tables: {
    name: string;
    rows: number;
    file: string;
    sha256: string;
    bytes: number;
    identity: boolean;
    selfReferences: string[];
  }[];
  sequences: { table: string; column: string; lastValue: number; isCalled: boolean }[];
  files: { path: string; bytes: number; sha256: string }[];
}

export interface BackupResult {
  archive: string;
  bytes: number;
  manifest: Manifest;
  ms: number;
}

async function enclaveVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function walk(dir: string, base = dir): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full, base)));
    // Half-written uploads (*.partial) are not stored files yet.
    else if (entry.isFile() && !entry.name.endsWith('.partial'))
      out.push(path.relative(base, full).split(path.sep).join('/'));
  }
  return out.sort();
}

async function write(stream: NodeJS.WritableStream, text: string) {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Writes the archive to `archive`; `dataDir` is DATA_DIR (its files/ folder is included). */
export async function createBackup(db: Database, options: { dataDir: string; archive: string }): Promise<BackupResult> {
  const started = Date.now();
  const staging = await mkdtemp(path.join(os.tmpdir(), 'enclave-backup-'));
  try {
    await mkdir(path.join(staging, 'db'));
    const manifest = await db.transaction(async (tx) => {
      const repo = createBackupRepository(tx);
      await repo.snapshot();
      const tables = dependencyOrder((await repo.tables()).filter((t) => !NOT_DUMPED.has(t.name)));
      const { migrations, serverVersion, embeddingSpace } = await repo.describe();
      const m: Manifest = {
        format: BACKUP_FORMAT,
        formatVersion: BACKUP_FORMAT_VERSION,
        enclaveVersion: await enclaveVersion(),
        createdAt: new Date().toISOString(),
        source: { database: db.kind, serverVersion },
        migrations,
        embeddingSpace,
        tables: [],
        sequences: [],
        files: [],
      };
      for (const table of tables) {
        const file = `db/${table.name}.jsonl`;
        const out = createWriteStream(path.join(staging, file));
        const hash = createHash('sha256');
        let rows = 0;
        let bytes = 0;
        for await (const page of repo.rows(table.name)) {
          const text = `${page.join('\n')}\n`;
          hash.update(text);
          bytes += Buffer.byteLength(text);
          rows += page.length;
          await write(out, text);
        }
        out.end();
        await once(out, 'close');
        m.tables.push({
          name: table.name,
          rows,
          file,
          sha256: hash.digest('hex'),
          bytes,
          identity: table.identity.length > 0,
          selfReferences: table.selfReferences,
        });
        for (const { column, sequence } of table.identity)
          m.sequences.push({ table: table.name, column, ...(await repo.sequenceState(sequence)) });
      }
      return m;
    });

    // Stored files, copied first so the checksum is of exactly the bytes archived.
    const filesDir = storedFilesDir(options.dataDir);
    for (const rel of await walk(filesDir)) {
      const target = path.join(staging, 'files', ...rel.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      await copyFile(path.join(filesDir, ...rel.split('/')), target);
      manifest.files.push({ path: rel, bytes: (await stat(target)).size, sha256: await sha256File(target) });
    }
    await writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    await mkdir(path.dirname(path.resolve(options.archive)), { recursive: true });
    const entries = ['manifest.json', 'db', ...(manifest.files.length ? ['files'] : [])];
    await tar.c({ gzip: true, file: options.archive, cwd: staging, portable: true }, entries);
    return { archive: options.archive, bytes: (await stat(options.archive)).size, manifest, ms: Date.now() - started };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

export interface RestoreResult {
  manifest: Manifest;
  rows: number;
  files: number;
  ms: number;
}

async function readLines(file: string): Promise<AsyncIterable<string>> {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}

/** Extracts and checks an archive: the manifest's format and every checksum. Returns the extraction directory. */
export async function openArchive(archive: string): Promise<{ dir: string; manifest: Manifest }> {
  if (!existsSync(archive)) throw new RestoreError(`No archive at ${archive}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-restore-'));
  try {
    await tar.x({ file: archive, cwd: dir, strict: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.format !== BACKUP_FORMAT || manifest.formatVersion > BACKUP_FORMAT_VERSION) {
      throw new RestoreError(
        `${archive} is not an Enclave backup this version can read (format ${manifest.format} v${manifest.formatVersion})`,
      );
    }
    const bad: string[] = [];
    for (const t of manifest.tables) if ((await sha256File(path.join(dir, t.file))) !== t.sha256) bad.push(t.file);
    for (const f of manifest.files) {
      const file = path.join(dir, 'files', ...f.path.split('/'));
      if (!existsSync(file) || (await sha256File(file)) !== f.sha256) bad.push(`files/${f.path}`);
    }
    if (bad.length)
      throw new RestoreError(
        `Checksum mismatch, the archive is damaged: ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ' …' : ''}`,
      );
    return { dir, manifest };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    if (error instanceof RestoreError) throw error;
    throw new RestoreError(`Cannot read ${archive}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Tables with rows, other than the bookkeeping ones (an empty deployment has none). */
export async function nonEmptyTables(db: Database): Promise<string[]> {
  const repo = createBackupRepository(db);
  const names = (await repo.tables()).map((t) => t.name).filter((n) => !NOT_DUMPED.has(n) && n !== 'embedding_space');
  const out: string[] = [];
  for (const name of names) if ((await repo.count(name)) > 0) out.push(name);
  return out;
}

function checkMigrations(archived: Manifest['migrations'], files: Migration[]): Migration[] {
  for (const m of archived) {
    const file = files.find((f) => f.version === m.version);
    if (!file)
      throw new RestoreError(
        `The archive was made by a newer Enclave (migration ${m.name} is unknown here): upgrade first, then restore`,
      );
    if (file.checksum !== m.checksum)
      throw new RestoreError(`Migration ${m.name} differs between the archive and this version`);
  }
  return files.slice(0, archived.length);
}

/**
 * Loads an archive into `db` (an empty deployment unless `force`) and DATA_DIR/files. The database
 * part is one transaction: it lands whole or not at all.
 */
export async function restoreBackup(
  db: Database,
  options: { dataDir: string; archive: string; force?: boolean },
): Promise<RestoreResult> {
  const started = Date.now();
  const { dir, manifest } = await openArchive(options.archive);
  try {
    const files = await readMigrations();
    const upTo = checkMigrations(manifest.migrations, files);
    await migrate(db, upTo);

    const occupied = await nonEmptyTables(db);
    const filesDir = storedFilesDir(options.dataDir);
    const storedFiles = await walk(filesDir);
    if ((occupied.length || storedFiles.length) && !options.force) {
      throw new RestoreError(
        `The target deployment is not empty (${[...occupied.map((t) => `table ${t}`), ...(storedFiles.length ? [`${storedFiles.length} stored file(s)`] : [])].slice(0, 6).join(', ')}). ` +
          'Restore into a fresh database and DATA_DIR, or pass --force to replace everything in it.',
      );
    }
    if (manifest.embeddingSpace) await switchEmbeddingSpace(db, manifest.embeddingSpace);

    let rows = 0;
    await db.transaction(async (tx) => {
      const repo = createBackupRepository(tx);
      const present = new Set((await repo.tables()).map((t) => t.name));
      const missing = manifest.tables.filter((t) => !present.has(t.name));
      if (missing.length)
        throw new RestoreError(`Tables missing after migrations: ${missing.map((t) => t.name).join(', ')}`);
      await repo.emptyTables(manifest.tables.map((t) => t.name));
      const vectorIndexes = await repo.vectorIndexes();
      for (const index of vectorIndexes) await repo.dropIndex(index.name);
      for (const table of manifest.tables) {
        const key = table.selfReferences.length ? await repo.primaryKey(table.name) : [];
        if (table.selfReferences.length && key.length !== 1)
          throw new RestoreError(`Table ${table.name} references itself but has no single-column primary key`);
        let batch: string[] = [];
        const flush = async () => {
          if (!batch.length) return;
          rows += await repo.insert(table.name, batch, { identity: table.identity, nullColumns: table.selfReferences });
          batch = [];
        };
        for await (const line of await readLines(path.join(dir, table.file))) {
          if (!line) continue;
          batch.push(line);
          if (batch.length >= 500) await flush();
        }
        await flush();
        if (table.selfReferences.length) {
          // Second pass: every row exists now, so the references can be set.
          let pass: string[] = [];
          for await (const line of await readLines(path.join(dir, table.file))) {
            if (!line) continue;
            pass.push(line);
            if (pass.length >= 500) {
              await repo.updateColumns(table.name, key[0]!, table.selfReferences, pass);
              pass = [];
            }
          }
          if (pass.length) await repo.updateColumns(table.name, key[0]!, table.selfReferences, pass);
        }
        const count = await repo.count(table.name);
        if (count !== table.rows)
          throw new RestoreError(`Table ${table.name}: ${count} rows after loading, the archive has ${table.rows}`);
      }
      for (const index of vectorIndexes) await repo.createIndex(index.definition);
      for (const s of manifest.sequences) {
        const info = (await repo.tables()).find((t) => t.name === s.table)?.identity.find((i) => i.column === s.column);
        if (info) await repo.setSequence(info.sequence, s.lastValue, s.isCalled);
      }
    });

    // Newer migrations of this version run over the restored data.
    await migrate(db, files);

    if (options.force) await rm(filesDir, { recursive: true, force: true });
    for (const f of manifest.files) {
      const target = path.join(filesDir, ...f.path.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      await copyFile(path.join(dir, 'files', ...f.path.split('/')), target);
    }
    return { manifest, rows, files: manifest.files.length, ms: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
