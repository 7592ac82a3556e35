import { appendAudit } from '../audit/audit.service.ts';
import type { ClientInfo } from '../auth/auth.service.ts';
import type { Database } from '../db/database.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { createBotRepository, type BotInput, type BotRow } from './bot.repository.ts';

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23505';
}

/** Admins configure bots; employees see the ones they may use. Every change is audited. */
export function createBotService(deps: { db: Database }) {
  const { db } = deps;

  async function assertCollections(ids: string[] | undefined) {
    if (!ids?.length) return;
    const found = await createBotRepository(db).existingCollections(ids);
    const missing = ids.filter((id) => !found.includes(id));
    if (missing.length)
      throw new AppError(400, 'unknown_collection', `Unknown collection id(s): ${missing.join(', ')}`);
  }

  return {
    async create(actor: Actor, input: BotInput, client: ClientInfo): Promise<BotRow> {
      await assertCollections(input.collectionIds);
      try {
        return await db.transaction(async (tx) => {
          const bot = await createBotRepository(tx).insert(input);
          await appendAudit(tx, {
            action: 'bot.created',
            actor,
            target: { type: 'bot', id: bot.id },
            ip: client.ip,
            details: { slug: bot.slug, collectionIds: bot.collection_ids },
          });
          return bot;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('A bot with this slug already exists');
        throw error;
      }
    },

    async update(actor: Actor, id: string, patch: Partial<BotInput>, client: ClientInfo): Promise<BotRow> {
      await assertCollections(patch.collectionIds);
      try {
        return await db.transaction(async (tx) => {
          const bots = createBotRepository(tx);
          const before = await bots.findById(id);
          if (!before) throw notFound('Bot');
          const after = (await bots.update(id, patch))!;
          await appendAudit(tx, {
            action: 'bot.updated',
            actor,
            target: { type: 'bot', id },
            ip: client.ip,
            details: { changed: Object.keys(patch).filter((k) => patch[k as keyof BotInput] !== undefined) },
          });
          return after;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('A bot with this slug already exists');
        throw error;
      }
    },

    async get(actor: Actor, id: string): Promise<BotRow> {
      const bots = createBotRepository(db);
      const bot =
        actor.role === 'admin' ? await bots.findById(id) : (await bots.listUsableBy(actor.id)).find((b) => b.id === id);
      if (!bot) throw notFound('Bot');
      return bot;
    },

    list(actor: Actor): Promise<BotRow[]> {
      const bots = createBotRepository(db);
      return actor.role === 'admin' ? bots.listAll() : bots.listUsableBy(actor.id);
    },
  };
}

export type BotService = ReturnType<typeof createBotService>;
