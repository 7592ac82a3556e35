import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createPgliteDatabase } from '../../server/src/core/db/pglite.ts';
import { migrate } from '../../server/src/core/db/migrator.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string | null;
  }
}

/**
 * Builds a migrated database template once per run — a PGlite dump file, and on real Postgres a
 * template database — so each test file clones a clean, migrated database in well under a second.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-test-'));
  const pglite = await createPgliteDatabase();
  await migrate(pglite);
  const dump = await pglite.pglite.dumpDataDir('none');
  await pglite.close();
  const templateFile = path.join(dir, 'pglite-template.tar');
  await writeFile(templateFile, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', templateFile);

  const url = process.env.TEST_DATABASE_URL;
  let templateName: string | null = null;
  if (url) {
    templateName = `enclave_tpl_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${templateName}`);
    await admin.end();
    const db = new URL(url);
    db.pathname = `/${templateName}`;
    const { createPostgresDatabase } = await import('../../server/src/core/db/postgres.ts');
    const template = createPostgresDatabase(db.toString(), { max: 2 });
    await migrate(template);
    await template.close();
  }
  project.provide('postgresTemplate', templateName);

  return async () => {
    await rm(dir, { recursive: true, force: true });
    if (url && templateName) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      // Databases cloned by test files that crashed before dropping them go too.
      const { rows } = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
        [`${templateName}_%`, templateName],
      );
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      await admin.end();
    }
  };
}
