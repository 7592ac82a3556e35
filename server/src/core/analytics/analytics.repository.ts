import type { Queryable } from '../db/database.ts';

/** Read-only aggregates over a time window, for the admin dashboard. */
export function createAnalyticsRepository(db: Queryable) {
  return {
    async conversationsPerDay(since: Date) {
      const { rows } = await db.query<{ day: string; kind: string; count: number }>(
        `SELECT to_char(date_trunc('day', created_at), 'YYYY-MM-DD') AS day, kind, count(*)::int AS count
           FROM conversations WHERE created_at >= $1 GROUP BY 1, 2 ORDER BY 1, 2`,
        [since],
      );
      return rows;
    },
    /** Bot conversations, and how many of them ever went to people (and why). */
    async botOutcomes(since: Date) {
      const { rows } = await db.query<{ total: number; handed_off: number }>(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM conversation_events e WHERE e.conversation_id = c.id AND e.type = 'handoff'))::int AS handed_off
           FROM conversations c WHERE c.kind = 'bot' AND c.created_at >= $1`,
        [since],
      );
      return rows[0] ?? { total: 0, handed_off: 0 };
    },
    async handoffReasons(since: Date) {
      const { rows } = await db.query<{ reason: string; count: number }>(
        `SELECT COALESCE(reason, 'unknown') AS reason, count(*)::int AS count FROM conversation_events
          WHERE type = 'handoff' AND created_at >= $1 GROUP BY 1 ORDER BY 2 DESC`,
        [since],
      );
      return rows;
    },
    /** Median seconds from queued to claimed, and from claimed to resolved, for each claim and resolve in the window. */
    async medianTimes(since: Date) {
      const { rows } = await db.query<{ wait: number | null; resolve: number | null }>(
        `SELECT
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM claimed_at - queued_at))
              FROM conversations WHERE claimed_at >= $1 AND queued_at IS NOT NULL AND claimed_at >= queued_at) AS wait,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - claimed_at))
              FROM conversations WHERE resolved_at >= $1 AND claimed_at IS NOT NULL AND resolved_at >= claimed_at) AS resolve`,
        [since],
      );
      return rows[0] ?? { wait: null, resolve: null };
    },
    async feedback(since: Date) {
      const { rows } = await db.query<{ positive: number; negative: number }>(
        `SELECT count(*) FILTER (WHERE rating = 1)::int AS positive, count(*) FILTER (WHERE rating = -1)::int AS negative
           FROM feedback WHERE created_at >= $1`,
        [since],
      );
      return rows[0] ?? { positive: 0, negative: 0 };
    },
    async tokensPerBot(since: Date) {
      const { rows } = await db.query<{
        bot_id: string | null;
        name: string | null;
        prompt_tokens: number;
        completion_tokens: number;
        requests: number;
      }>(
        `SELECT u.bot_id, b.name, sum(u.prompt_tokens)::int AS prompt_tokens, sum(u.completion_tokens)::int AS completion_tokens, count(*)::int AS requests
           FROM llm_usage u LEFT JOIN bots b ON b.id = u.bot_id
          WHERE u.created_at >= $1 GROUP BY 1, 2 ORDER BY 3 DESC`,
        [since],
      );
      return rows;
    },
    /** Tokens by the asking user's departments (a user in two groups counts in both; none: "no group"). */
    async tokensPerGroup(since: Date) {
      const { rows } = await db.query<{ group_id: string | null; name: string; tokens: number }>(
        `SELECT g.id AS group_id, COALESCE(g.name, '—') AS name, sum(u.prompt_tokens + u.completion_tokens)::int AS tokens
           FROM llm_usage u
           LEFT JOIN user_groups ug ON ug.user_id = u.user_id
           LEFT JOIN groups g ON g.id = ug.group_id
          WHERE u.created_at >= $1 GROUP BY 1, 2 ORDER BY 3 DESC`,
        [since],
      );
      return rows;
    },
  };
}
