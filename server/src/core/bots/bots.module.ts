import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import { createRetrievalService } from '../knowledge/retrieval.service.ts';
import { createEmbedder } from '../llm/create-embedder.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { createGroundedAnswerer } from './grounded-answerer.ts';
import type { PromptSet } from './prompts.ts';

/** The grounded-answer pipeline wired from configuration: the worker's answers, /v1 and the copilot use it. */
export function createConfiguredAnswerer(deps: { db: Database; config: Config; prompts: PromptSet; logger: Logger; metrics?: Metrics }) {
  const { metrics } = deps;
  return createGroundedAnswerer({
    db: deps.db,
    retrieval: createRetrievalService({ db: deps.db, embedder: createEmbedder(deps.config) }),
    prompts: deps.prompts,
    config: deps.config,
    timeouts: deps.config.chat.timeouts,
    logger: deps.logger,
    onUsage: (usage) => {
      metrics?.modelTokens.inc({ kind: usage.kind, direction: 'prompt' }, usage.promptTokens);
      metrics?.modelTokens.inc({ kind: usage.kind, direction: 'completion' }, usage.completionTokens);
      metrics?.modelLatency.observe({ kind: usage.kind }, usage.latencyMs / 1000);
    },
  });
}
