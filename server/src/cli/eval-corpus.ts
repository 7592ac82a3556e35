import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compose } from '../composition.ts';
import { loadConfig } from '../config.ts';
import { createPgliteDatabase } from '../core/db/pglite.ts';
import { createDocumentRepository } from '../core/knowledge/document.repository.ts';
import { createLogger } from '../core/logger.ts';
import type { Actor } from '../core/policy/actor.ts';
import { createUserRepository } from '../core/users/user.repository.ts';
import type { Domain } from '../domain.ts';
import type { Services } from '../services.ts';

/** A line of the development sets (see eval-data.ts). */
export interface DevPassage {
  id: string;
  title: string;
  text: string;
}
export interface DevQuestion {
  id: string;
  question: string;
  answers?: string[];
  passage_id: string;
}

export async function readJsonl<T>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export interface IngestedCorpus {
  services: Services;
  domain: Domain;
  actor: Actor;
  collectionId: string;
  /** Document id → the dev-set passage ids it holds (identical passages dedupe into one document). */
  passagesOf: Map<string, string[]>;
  ingestSeconds: number;
}

/**
 * Runs `fn` against a throwaway embedded deployment (PGlite in a temp dir, in-process jobs; the
 * offline models unless `options.env` configures others) into which `passages` were ingested
 * through the real pipeline.
 */
export async function withIngestedCorpus<T>(
  name: string,
  passages: DevPassage[],
  options: { env?: NodeJS.ProcessEnv },
  fn: (corpus: IngestedCorpus) => Promise<T>,
): Promise<T> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-eval-'));
  const config = loadConfig({ ...options.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', JOB_CONCURRENCY: '2' });
  const db = await createPgliteDatabase({ dataDir: path.join(dataDir, 'db') });
  const secret = 'eval-secret-eval-secret-eval-secret-00';
  const composition = await compose(config, createLogger('silent'), { db, secret });
  const { services, domain } = composition;
  try {
    await services.jobs.startProcessing();
    const user = await createUserRepository(db).insert({
      email: 'eval@enclave.local',
      name: 'Eval',
      passwordHash: null,
      role: 'admin',
    });
    const actor: Actor = {
      id: user.id,
      email: user.email,
      name: user.name,
      role: 'admin',
      credential: { kind: 'session', id: 'eval' },
    };
    const collection = await domain.knowledge.createCollection(actor, { name }, { ip: '127.0.0.1' });
    const started = Date.now();
    const passagesOf = new Map<string, string[]>();
    for (const p of passages) {
      const { document } = await domain.knowledge.addSource(
        actor,
        collection.id,
        { kind: 'text', title: p.title, text: p.text },
        { ip: '127.0.0.1' },
      );
      passagesOf.set(document.id, [...(passagesOf.get(document.id) ?? []), p.id]);
    }
    for (;;) {
      const { pending, failed } = await createDocumentRepository(db).statusCounts();
      if (pending === 0) {
        if (failed) throw new Error(`${failed} passages failed to ingest`);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return await fn({
      services,
      domain,
      actor,
      collectionId: collection.id,
      passagesOf,
      ingestSeconds: (Date.now() - started) / 1000,
    });
  } finally {
    await composition.close(5000).catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}
