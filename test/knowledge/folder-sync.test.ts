import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';
import { newCollection, search } from './helpers.ts';

describe.each(backends)('folder sync on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let dir: string;
  let allowed: string;
  let outside: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-folder-'));
    allowed = path.join(dir, 'shares');
    outside = path.join(dir, 'private');
    await mkdir(allowed, { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'salaries.md'), 'Salaries of the board: secret.');
    app = await startTestApp(backend, { env: { SYNC_ALLOWED_ROOTS: allowed } });
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const addFolder = (collectionId: string, folder: string) =>
    request(app.url, 'POST', `/api/collections/${collectionId}/sources`, {
      token: admin.token,
      body: { kind: 'folder', path: folder },
    });
  const documentsOf = async (collectionId: string) =>
    (await request(app.url, 'GET', `/api/collections/${collectionId}/documents`, { token: admin.token })).body
      .items as {
      id: string;
      title: string;
      source: string;
      status: string;
      enabled: boolean;
      retiredReason: string | null;
      sourceKey: string;
    }[];
  async function runFinished(sourceId: string, collectionId: string, count: number) {
    const source = await until(
      async () => {
        const s = (await request(app.url, 'GET', `/api/sources/${sourceId}`, { token: admin.token })).body.source;
        return !s.running && s.runs.length >= count ? s : undefined;
      },
      `run ${count} of the folder`,
      30_000,
    );
    await until(
      async () => (await documentsOf(collectionId)).every((d) => d.status === 'ready' || d.status === 'failed'),
      'the files to be indexed',
      30_000,
    );
    return source;
  }

  it('files added, changed and removed become documents, new versions and retired documents', async () => {
    const folder = path.join(allowed, `handbook-${backend}`);
    await mkdir(path.join(folder, 'it'), { recursive: true });
    await writeFile(path.join(folder, 'leave.md'), '# Leave\n\nAnnual leave is 25 days a year.');
    await writeFile(path.join(folder, 'it', 'vpn.txt'), 'The VPN gateway is vpn.example.test.');
    // A link inside the folder that leads outside it is not followed.
    await symlink(path.join(outside, 'salaries.md'), path.join(folder, 'board.md'));
    const collection = await newCollection(app, admin.token, { name: `Shares ${backend}` });

    const res = await addFolder(collection, folder);
    expect(res.status).toBe(201);
    const sourceId = res.body.source.id;
    const first = await runFinished(sourceId, collection, 1);
    expect(first.lastRun).toMatchObject({ status: 'ok', added: 2 });
    expect(first.lastRun.failures).toEqual([{ key: 'board.md', reason: 'A link that leads outside the folder' }]);
    const docs = await documentsOf(collection);
    expect(docs.map((d) => [d.sourceKey, d.source, d.status]).sort()).toEqual([
      [path.join('it', 'vpn.txt'), 'folder', 'ready'],
      ['leave.md', 'folder', 'ready'],
    ]);
    expect(
      (await search(app, admin.token, 'salaries of the board', { collectionIds: [collection] })).some((h) =>
        h.text.includes('secret'),
      ),
    ).toBe(false);

    await writeFile(path.join(folder, 'leave.md'), '# Leave\n\nAnnual leave is 30 days a year from 2027 on.');
    await unlink(path.join(folder, 'it', 'vpn.txt'));
    await writeFile(path.join(folder, 'parking.md'), 'Bicycles park in the courtyard.');
    await request(app.url, 'POST', `/api/sources/${sourceId}/refresh`, { token: admin.token });
    const second = await runFinished(sourceId, collection, 2);
    expect(second.lastRun).toMatchObject({ status: 'ok', added: 1, updated: 1, retired: 1 });

    const after = await documentsOf(collection);
    const leave = after.find((d) => d.sourceKey === 'leave.md')!;
    const vpn = after.find((d) => d.sourceKey === path.join('it', 'vpn.txt'))!;
    expect(vpn).toMatchObject({ enabled: false, retiredReason: 'removed' });
    const versions = (await request(app.url, 'GET', `/api/documents/${leave.id}/versions`, { token: admin.token })).body
      .items;
    expect(versions.map((v: { number: number }) => v.number)).toEqual([2, 1]);
    const hits = await search(app, admin.token, 'how many days of annual leave', { collectionIds: [collection] });
    expect(hits[0]!.text).toContain('30 days');
    expect(hits.some((h) => h.text.includes('25 days'))).toBe(false);
    expect(hits.some((h) => h.documentId === vpn.id)).toBe(false);
    expect(
      (await search(app, admin.token, 'where do bicycles park', { collectionIds: [collection] }))[0]!.text,
    ).toContain('courtyard');

    // Nothing changed: nothing fetched again, no new version.
    await request(app.url, 'POST', `/api/sources/${sourceId}/refresh`, { token: admin.token });
    const third = await runFinished(sourceId, collection, 3);
    expect(third.lastRun).toMatchObject({ status: 'ok', added: 0, updated: 0, retired: 0, unchanged: 2 });
  });

  it('refuses a folder outside SYNC_ALLOWED_ROOTS, also through .. or a symlink', async () => {
    const collection = await newCollection(app, admin.token, { name: `Refused ${backend}` });
    await symlink(outside, path.join(allowed, `escape-${backend}`));
    for (const folder of ['/etc', path.join(allowed, '..', 'private'), path.join(allowed, `escape-${backend}`)]) {
      const res = await addFolder(collection, folder);
      expect(res.status, folder).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'path_not_allowed' });
      expect(res.body.error.message).toContain('outside the directories folder sync may read');
    }
    expect((await addFolder(collection, 'shares/handbook')).body.error).toMatchObject({ code: 'bad_path' });
    expect((await documentsOf(collection)).length).toBe(0);
    const sources = await request(app.url, 'GET', `/api/collections/${collection}/sources`, { token: admin.token });
    expect(sources.body.items).toEqual([]);
  });
});
