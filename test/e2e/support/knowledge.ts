import type { TestUser } from '../../support/fixtures.ts';
import type { E2eWorld } from './app.ts';

/** Arranges knowledge over the API: a collection, a text document (ready), and a bot answering from it. */
export async function knowledgeBot(
  world: E2eWorld,
  admin: TestUser,
  input: { title: string; text: string; greeting?: string },
) {
  const collection = await world.api(admin, 'POST', '/api/collections', { name: `KB ${Date.now()}` });
  if (collection.status !== 201) throw new Error(`collection: ${collection.status} ${JSON.stringify(collection.body)}`);
  const collectionId: string = collection.body.collection.id;
  const doc = await world.api(admin, 'POST', `/api/collections/${collectionId}/documents`, {
    title: input.title,
    text: input.text,
  });
  if (doc.status !== 202) throw new Error(`document: ${doc.status} ${JSON.stringify(doc.body)}`);
  const documentId: string = doc.body.document.id;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const d = await world.api(admin, 'GET', `/api/documents/${documentId}`);
    if (d.body.document.status === 'ready') break;
    if (d.body.document.status === 'failed' || Date.now() > deadline)
      throw new Error(`document did not become ready: ${JSON.stringify(d.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const slug = `kb-${Date.now().toString(36)}`;
  const bot = await world.api(admin, 'POST', '/api/bots', {
    slug,
    name: 'HR Assistant',
    greeting: input.greeting ?? 'Hello! Ask me about HR policies.',
    collectionIds: [collectionId],
  });
  if (bot.status !== 201) throw new Error(`bot: ${bot.status} ${JSON.stringify(bot.body)}`);
  return { collectionId, documentId, botId: bot.body.bot.id as string };
}
