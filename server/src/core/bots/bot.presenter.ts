import type { Actor } from '../policy/actor.ts';
import type { BotHandoffSettings, BotModelSettings } from './bot-settings.ts';
import type { BotRow } from './bot.repository.ts';
import type { Language } from './language.ts';
import type { PromptName } from './prompts.ts';

/** Admins see every setting; employees only what they need to pick and greet. */
export function presentBot(bot: BotRow, actor: Actor) {
  return actor.role === 'admin' ? presentBotDetail(bot) : presentBotSummary(bot);
}

/** A bot as employees see it (the web app imports this type). */
function presentBotSummary(bot: BotRow) {
  return {
    id: bot.id,
    slug: bot.slug,
    name: bot.name,
    description: bot.description,
    greeting: bot.greeting,
    language: bot.language as Language | 'auto',
  };
}

/** A bot as admins see it (the web app imports this type). */
function presentBotDetail(bot: BotRow) {
  return {
    ...presentBotSummary(bot),
    collectionIds: bot.collection_ids,
    // Written through the bot routes' schemas; a stored handoff may predate a field (bot-settings.ts).
    prompts: bot.prompts as Partial<Record<PromptName, string>>,
    model: bot.model as BotModelSettings,
    handoff: bot.handoff as Partial<BotHandoffSettings>,
    enabled: bot.enabled,
    createdAt: bot.created_at.toISOString(),
    updatedAt: bot.updated_at.toISOString(),
  };
}

export type PresentedBotSummary = ReturnType<typeof presentBotSummary>;
export type PresentedBotDetail = ReturnType<typeof presentBotDetail>;
