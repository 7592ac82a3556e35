import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../server/src/core/crypto/password.ts';
import { createUserRepository, type Role } from '../../server/src/core/users/user.repository.ts';
import type { TestApp } from './app.ts';
import { request } from './http.ts';

export const TEST_PASSWORD = 'correct horse battery staple';
let passwordHash: Promise<string> | undefined;

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  token: string;
}

/** Builds a real user row (optionally in groups) and signs it in over HTTP, returning its session token. */
export async function newUser(
  app: TestApp,
  options: { role?: Role; groups?: string[]; email?: string; name?: string } = {},
): Promise<TestUser> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const email = options.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
  const users = createUserRepository(app.services.db);
  const user = await users.insert({
    email,
    name: options.name ?? email.split('@')[0]!,
    passwordHash: await passwordHash,
    role: options.role ?? 'employee',
  });
  if (options.groups?.length) await users.setGroups(user.id, options.groups, 'manual');
  const login = await request(app.url, 'POST', '/api/auth/login', { body: { email, password: TEST_PASSWORD } });
  if (login.status !== 200) throw new Error(`fixture login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: user.id, email, role: user.role, token: login.body.token };
}

export async function newGroup(app: TestApp, name = `group-${randomBytes(3).toString('hex')}`): Promise<string> {
  const { rows } = await app.services.db.query<{ id: string }>('INSERT INTO groups (name) VALUES ($1) RETURNING id', [
    name,
  ]);
  return rows[0]!.id;
}

/** A bot row (the bots issue adds its API); conversations only need it to exist. */
export async function newBot(
  app: TestApp,
  options: { greeting?: string; triggerWords?: string[] } = {},
): Promise<string> {
  const slug = `bot-${randomBytes(3).toString('hex')}`;
  const { rows } = await app.services.db.query<{ id: string }>(
    `INSERT INTO bots (slug, name, greeting, handoff) VALUES ($1, $2, $3, $4) RETURNING id`,
    [slug, `Bot ${slug}`, options.greeting ?? '', JSON.stringify({ triggerWords: options.triggerWords ?? [] })],
  );
  return rows[0]!.id;
}

/** An admin-made collection with pasted-text documents, waited on until every one is searchable. */
export async function newKnowledge(
  app: TestApp,
  admin: TestUser,
  documents: { title: string; text: string }[],
  options: { groups?: string[] } = {},
): Promise<{ collectionId: string; documentIds: string[] }> {
  const collection = await request(app.url, 'POST', '/api/collections', {
    token: admin.token,
    body: { name: `kb-${randomBytes(3).toString('hex')}`, ...(options.groups ? { groups: options.groups } : {}) },
  });
  if (collection.status !== 201) throw new Error(`collection: ${collection.status} ${JSON.stringify(collection.body)}`);
  const collectionId: string = collection.body.collection.id;
  const documentIds: string[] = [];
  for (const doc of documents) {
    const added = await request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
      token: admin.token,
      body: doc,
    });
    if (added.status !== 202) throw new Error(`document: ${added.status} ${JSON.stringify(added.body)}`);
    documentIds.push(added.body.document.id);
  }
  const deadline = Date.now() + 30_000;
  for (const id of documentIds) {
    for (;;) {
      const doc = await request(app.url, 'GET', `/api/documents/${id}`, { token: admin.token });
      if (doc.body.document?.status === 'ready') break;
      if (doc.body.document?.status === 'failed') throw new Error(`ingestion failed: ${doc.body.document.error}`);
      if (Date.now() > deadline) throw new Error(`document ${id} not ready: ${JSON.stringify(doc.body)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { collectionId, documentIds };
}

/** A bot over the given collections through the admin API. */
export async function newApiBot(
  app: TestApp,
  admin: TestUser,
  input: {
    collectionIds: string[];
    handoff?: Record<string, unknown>;
    model?: Record<string, unknown>;
    greeting?: string;
    name?: string;
  },
): Promise<{ id: string; slug: string }> {
  const slug = `bot-${randomBytes(3).toString('hex')}`;
  const created = await request(app.url, 'POST', '/api/bots', {
    token: admin.token,
    body: { slug, name: input.name ?? 'HR Assistant', ...input },
  });
  if (created.status !== 201) throw new Error(`bot: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: created.body.bot.id, slug };
}
