import { z } from 'zod';
import { botHandoffSchema, botModelSchema } from '../../core/bots/bot-settings.ts';
import { presentBot } from '../../core/bots/bot.presenter.ts';
import type { BotService } from '../../core/bots/bot.service.ts';
import { PROMPT_NAMES } from '../../core/bots/prompts.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, text, uuidParam } from '../validate.ts';

const promptOverrides = z.partialRecord(z.enum(PROMPT_NAMES), z.string().max(20_000));

export const botSchema = z.strictObject({
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes, 2–63 characters'),
  name: text(100),
  description: z.string().trim().max(2000).default(''),
  greeting: z.string().trim().max(2000).default(''),
  language: z.enum(['auto', 'zh', 'en']).default('auto'),
  collectionIds: z.array(z.uuid()).max(100).default([]),
  prompts: promptOverrides.default({}),
  model: botModelSchema.default({}),
  handoff: botHandoffSchema.default(botHandoffSchema.parse({})),
  enabled: z.boolean().default(true),
});

export const patchSchema = z
  .strictObject({
    slug: botSchema.shape.slug,
    name: botSchema.shape.name,
    description: z.string().trim().max(2000),
    greeting: z.string().trim().max(2000),
    language: z.enum(['auto', 'zh', 'en']),
    collectionIds: z.array(z.uuid()).max(100),
    prompts: promptOverrides,
    model: botModelSchema,
    handoff: botHandoffSchema,
    enabled: z.boolean(),
  })
  .partial();

export function botRoutes(r: SecureRouter, bots: BotService) {
  r.post('/api/bots', 'admin', async (req, res) => {
    const bot = await bots.create(actorOf(req), body(botSchema, req), clientOf(req));
    res.status(201).json({ bot: presentBot(bot, actorOf(req)) });
  });

  r.get('/api/bots', 'user', async (req, res) => {
    const actor = actorOf(req);
    res.json({ items: (await bots.list(actor)).map((b) => presentBot(b, actor)), next: null });
  });

  r.get('/api/bots/:id', 'user', async (req, res) => {
    const actor = actorOf(req);
    res.json({ bot: presentBot(await bots.get(actor, uuidParam(req)), actor) });
  });

  r.patch('/api/bots/:id', 'admin', async (req, res) => {
    const bot = await bots.update(actorOf(req), uuidParam(req), body(patchSchema, req), clientOf(req));
    res.json({ bot: presentBot(bot, actorOf(req)) });
  });
}
