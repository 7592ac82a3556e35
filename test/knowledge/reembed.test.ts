import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../server/src/composition.ts';
import { loadConfig } from '../../server/src/config.ts';
import { EmbeddingSpaceMismatchError } from '../../server/src/core/db/embedding-space.ts';
import { createLogger } from '../../server/src/core/logger.ts';
import type { Actor } from '../../server/src/core/policy/actor.ts';
import { createUserRepository } from '../../server/src/core/users/user.repository.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';
import { until } from '../support/wait.ts';

const SECRET = 'test-secret-test-secret-test-secret-00';

/** `npm run reembed` on an embedded installation whose configured embedding size changed. */
describe('npm run reembed', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-reembed-'));
  });
  afterEach(killAllChildren);
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const open = (dimensions: string) =>
    compose(
      loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', EMBEDDING_DIMENSIONS: dimensions }),
      createLogger('silent'),
      { secret: SECRET },
    );

  it('re-embeds every document into the new space, after which the start succeeds and search works', async () => {
    let composition = await open('512');
    let documentId: string;
    try {
      const { services, domain } = composition;
      await services.jobs.startProcessing();
      const user = await createUserRepository(services.db).insert({
        email: 'a@example.test',
        name: 'A',
        passwordHash: null,
        role: 'admin',
      });
      const actor: Actor = {
        id: user.id,
        email: user.email,
        name: 'A',
        role: 'admin',
        credential: { kind: 'session', id: 'x' },
      };
      const collection = await domain.knowledge.createCollection(actor, { name: 'C' }, { ip: '127.0.0.1' });
      documentId = (
        await domain.knowledge.addSource(
          actor,
          collection.id,
          { kind: 'text', title: 'Otters', text: 'Sea otters hold hands while sleeping.' },
          { ip: '127.0.0.1' },
        )
      ).document.id;
      await until(
        async () => (await domain.knowledge.getDocument(documentId)).status === 'ready',
        'the document to be indexed',
      );
    } finally {
      await composition.close(2000);
    }

    // A different size is refused at start while old vectors exist …
    await expect(open('256')).rejects.toThrow(EmbeddingSpaceMismatchError);

    // … until the re-embed.
    const cli = spawnTs('server/src/cli/reembed.ts', [], {
      env: childEnv({ DATA_DIR: dataDir, EMBEDDING_DIMENSIONS: '256', SESSION_SECRET: SECRET }),
    });
    const exit = await cli.waitForExit(60_000);
    expect(cli.stdout()).toMatch(/1 document\(s\) queued/);
    expect(cli.stdout()).toMatch(/Finished/);
    expect(exit.code).toBe(0);

    composition = await open('256');
    try {
      const { services, domain } = composition;
      const { rows } = await services.db.query<{ dims: number; version: number; status: string; n: number }>(
        `SELECT vector_dims(c.embedding) AS dims, d.version, d.status, count(*) OVER ()::int AS n FROM chunks c JOIN documents d ON d.id = c.document_id`,
      );
      expect(rows).toEqual([{ dims: 256, version: 2, status: 'ready', n: 1 }]);
      const { rows: users } = await services.db.query<{ id: string }>('SELECT id FROM users');
      const hits = await domain.retrieval.search(
        { id: users[0]!.id },
        { query: 'otters sleeping' },
        { mode: 'vector' },
      );
      expect(hits[0]!.documentId).toBe(documentId!);
    } finally {
      await composition.close(2000);
    }
  }, 120_000);
});
