import type { Queryable } from '../db/database.ts';
import { botUsableSql } from '../policy/read-rules.sql.ts';

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
  /** Who may use it: everyone, or readers of its collections (admins always). */
  users: 'everyone' | 'collection-readers';
  created_at: Date;
  updated_at: Date;
}

export interface BotInput {
  slug: string;
  name: string;
  description: string;
  greeting: string;
  language: string;
  collectionIds: string[];
  prompts: Record<string, string>;
  model: Record<string, unknown>;
  handoff: Record<string, unknown>;
  enabled: boolean;
}

const COLUMNS: Record<keyof BotInput, string> = {
  slug: 'slug',
  name: 'name',
  description: 'description',
  greeting: 'greeting',
  language: 'language',
  collectionIds: 'collection_ids',
  prompts: 'prompts',
  model: 'model',
  handoff: 'handoff',
  enabled: 'enabled',
};

// Who may use a bot follows the collections an admin gives it: none (a bot without knowledge) is for
// everyone, some are for their readers. Stored, so collections deleted later never make it everyone's.
const usersOfCollections = (ids: string) =>
  `CASE WHEN cardinality(${ids}::uuid[]) = 0 THEN 'everyone' ELSE 'collection-readers' END`;

const JSON_FIELDS = new Set<keyof BotInput>(['prompts', 'model', 'handoff']);

export function createBotRepository(db: Queryable) {
  return {
    async insert(bot: BotInput): Promise<BotRow> {
      const { rows } = await db.query<BotRow>(
        `INSERT INTO bots (slug, name, description, greeting, language, collection_ids, prompts, model, handoff, enabled, users)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ${usersOfCollections('$6')}) RETURNING *`,
        [
          bot.slug,
          bot.name,
          bot.description,
          bot.greeting,
          bot.language,
          bot.collectionIds,
          JSON.stringify(bot.prompts),
          JSON.stringify(bot.model),
          JSON.stringify(bot.handoff),
          bot.enabled,
        ],
      );
      return rows[0]!;
    },
    async update(id: string, patch: Partial<BotInput>): Promise<BotRow | undefined> {
      const sets: string[] = [];
      const params: unknown[] = [id];
      for (const [key, column] of Object.entries(COLUMNS) as [keyof BotInput, string][]) {
        if (patch[key] === undefined) continue;
        params.push(JSON_FIELDS.has(key) ? JSON.stringify(patch[key]) : patch[key]);
        sets.push(`${column} = $${params.length}`);
        if (key === 'collectionIds') sets.push(`users = ${usersOfCollections(`$${params.length}`)}`);
      }
      if (!sets.length) return this.findById(id);
      const { rows } = await db.query<BotRow>(
        `UPDATE bots SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
        params,
      );
      return rows[0];
    },
    async findById(id: string): Promise<BotRow | undefined> {
      const { rows } = await db.query<BotRow>('SELECT * FROM bots WHERE id = $1', [id]);
      return rows[0];
    },
    async findBySlug(slug: string): Promise<BotRow | undefined> {
      const { rows } = await db.query<BotRow>('SELECT * FROM bots WHERE slug = $1', [slug]);
      return rows[0];
    },
    async listAll(): Promise<BotRow[]> {
      const { rows } = await db.query<BotRow>('SELECT * FROM bots ORDER BY lower(name)');
      return rows;
    },
    /** Enabled bots a user may use (see botUsableSql). */
    async listUsableBy(userId: string): Promise<BotRow[]> {
      const { rows } = await db.query<BotRow>(
        `SELECT b.* FROM bots b
          WHERE b.enabled AND ${botUsableSql('b', '$1')}
          ORDER BY lower(b.name)`,
        [userId],
      );
      return rows;
    },
    async existingCollections(ids: string[]): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM collections WHERE id = ANY($1::uuid[])', [ids]);
      return rows.map((r) => r.id);
    },
    async findEnabled(id: string): Promise<BotRow | undefined> {
      const { rows } = await db.query<BotRow>('SELECT * FROM bots WHERE id = $1 AND enabled', [id]);
      return rows[0];
    },
    /** The bot if it is enabled and the user may use it (see botUsableSql). */
    async findUsableBy(id: string, userId: string): Promise<BotRow | undefined> {
      const { rows } = await db.query<BotRow>(
        `SELECT b.* FROM bots b WHERE b.id = $1 AND b.enabled AND ${botUsableSql('b', '$2')}`,
        [id, userId],
      );
      return rows[0];
    },
    /** The settings a posted message is weighed by (as stored: bot-settings.ts parses them). */
    async routingSettingsOf(id: string): Promise<{ handoff: unknown; model: unknown } | undefined> {
      const { rows } = await db.query<{ handoff: unknown; model: unknown }>(
        'SELECT handoff, model FROM bots WHERE id = $1',
        [id],
      );
      return rows[0];
    },
  };
}
