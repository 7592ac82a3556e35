import type { Queryable } from '../db/database.ts';

export interface BotRow {
  id: string;
  slug: string;
  name: string;
  description: string;
  greeting: string;
  language: string;
  collection_ids: string[];
  prompts: Record<string, string>;
  model: Record<string, unknown>;
  handoff: Record<string, unknown>;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export function createBotRepository(db: Queryable) {
  return {
    async findEnabled(id: string): Promise<BotRow | undefined> {
      const { rows } = await db.query<BotRow>('SELECT * FROM bots WHERE id = $1 AND enabled', [id]);
      return rows[0];
    },
    /** A bot's extra phrases that mean "a person, please" (its handoff settings). */
    async triggerWords(id: string): Promise<string[]> {
      const { rows } = await db.query<{ words: unknown }>(`SELECT handoff -> 'triggerWords' AS words FROM bots WHERE id = $1`, [id]);
      const words = rows[0]?.words;
      return Array.isArray(words) ? words.filter((w): w is string => typeof w === 'string') : [];
    },
  };
}
