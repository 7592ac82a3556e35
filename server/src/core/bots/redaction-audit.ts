import { recordAudit } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import type { RedactionCounts } from '../llm/redaction.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** Whose words a bot's model request carried. */
export interface RedactionContext {
  botId: string;
  userId: string;
  conversationId: string | null;
}

export type OnBotRedaction = (context: RedactionContext, counts: RedactionCounts) => Promise<void>;

/** Counts replaced values by kind and endpoint. */
export function countRedactions(metrics: Metrics | undefined, endpoint: 'chat' | 'embedding' | 'rerank') {
  return (counts: RedactionCounts) => {
    for (const [kind, n] of Object.entries(counts)) metrics?.piiRedactions.inc({ kind, endpoint }, n);
  };
}

/**
 * A chat request that had personal data replaced is counted and audited: which kinds and how many,
 * for which bot and asker — never the values, which the audit log must not hold either.
 */
export function auditRedactions(db: Database, metrics: Metrics | undefined): OnBotRedaction {
  const count = countRedactions(metrics, 'chat');
  return async (context, counts) => {
    count(counts);
    await recordAudit(db, {
      action: 'model.pii-redacted',
      target: { type: 'bot', id: context.botId },
      details: { userId: context.userId, conversationId: context.conversationId, kinds: counts },
    });
  };
}
