import type { Config } from '../../config.ts';
import type { ConversationPublisher } from '../conversations/conversation-publisher.ts';
import type { Database } from '../db/database.ts';
import type { RetrievalService } from '../knowledge/retrieval.service.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createAnswerability } from './answerability.ts';
import { createConversationTitler } from './conversation-titler.ts';
import { createGroundedAnswerer } from './grounded-answerer.ts';
import { createIntentClassifier } from './intent-classifier.ts';
import type { PromptSet } from './prompts.ts';
import { auditRedactions } from './redaction-audit.ts';
import type { UsageRecord } from './usage.repository.ts';

/** Counts a model request's tokens and latency by its use. */
const countUsage = (metrics: Metrics | undefined) => (usage: UsageRecord) => {
  metrics?.modelTokens.inc({ kind: usage.kind, direction: 'prompt' }, usage.promptTokens);
  metrics?.modelTokens.inc({ kind: usage.kind, direction: 'completion' }, usage.completionTokens);
  metrics?.modelLatency.observe({ kind: usage.kind }, usage.latencyMs / 1000);
};

/**
 * The grounded-answer pipeline wired from configuration over the process's one retrieval service:
 * the bot's answers, /v1 and the copilot use it.
 */
export function createConfiguredAnswerer(deps: {
  db: Database;
  config: Config;
  prompts: PromptSet;
  logger: Logger;
  retrieval: Pick<RetrievalService, 'searchWithEvidence'>;
  metrics?: Metrics;
}) {
  const { metrics } = deps;
  return createGroundedAnswerer({
    db: deps.db,
    retrieval: deps.retrieval,
    answerability: createAnswerability(),
    prompts: deps.prompts,
    config: deps.config,
    timeouts: deps.config.chat.timeouts,
    logger: deps.logger,
    onUsage: countUsage(metrics),
    onRedacted: auditRedactions(deps.db, metrics),
  });
}

/** The bot's model reading a message for a wish for a person, frustration and a complaint. */
export function createConfiguredIntentClassifier(deps: {
  db: Database;
  config: Config;
  prompts: PromptSet;
  logger: Logger;
  metrics?: Metrics;
}) {
  return createIntentClassifier({
    db: deps.db,
    prompts: deps.prompts,
    config: deps.config,
    timeouts: deps.config.chat.timeouts,
    logger: deps.logger,
    onUsage: countUsage(deps.metrics),
    onRedacted: auditRedactions(deps.db, deps.metrics),
  });
}

/** Short conversation titles written by the bot's model after the first answer. */
export function createConfiguredTitler(deps: {
  db: Database;
  config: Config;
  prompts: PromptSet;
  logger: Logger;
  metrics?: Metrics;
  publisher: Pick<ConversationPublisher, 'renamed'>;
}) {
  return createConversationTitler({
    db: deps.db,
    prompts: deps.prompts,
    config: deps.config,
    timeouts: deps.config.chat.timeouts,
    publisher: deps.publisher,
    logger: deps.logger,
    onUsage: countUsage(deps.metrics),
    onRedacted: auditRedactions(deps.db, deps.metrics),
  });
}
