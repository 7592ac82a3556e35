import type { Queryable } from '../db/database.ts';

export interface UsageRecord {
  kind: 'answer' | 'rewrite' | 'intent' | 'summary' | 'suggestion' | 'v1' | 'title';
  model: string;
  botId: string | null;
  userId: string | null;
  conversationId: string | null;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
}

export function createUsageRepository(db: Queryable) {
  return {
    async record(u: UsageRecord): Promise<void> {
      await db.query(
        `INSERT INTO llm_usage (kind, model, bot_id, user_id, conversation_id, prompt_tokens, completion_tokens, latency_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          u.kind,
          u.model,
          u.botId,
          u.userId,
          u.conversationId,
          u.promptTokens,
          u.completionTokens,
          Math.round(u.latencyMs),
        ],
      );
    },
  };
}
