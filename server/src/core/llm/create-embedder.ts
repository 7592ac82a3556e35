import type { Config } from '../../config.ts';
import type { EmbeddingProvider } from './embedding-provider.ts';
import { createOfflineEmbedder } from './offline-embedder.ts';
import { createOpenAiEmbedder } from './openai-embedder.ts';
import { redactingEmbedder, type OnRedacted } from './redacting-models.ts';
import { createRedactor } from './redaction.ts';
import { redactsFor } from './redaction-policy.ts';

/**
 * The configured embedding provider: the offline embedder unless EMBEDDING_MODEL is set. A remote
 * one (per REDACT_PII) receives placeholders instead of personal data, in queries and chunks alike.
 */
export function createEmbedder(
  config: Pick<Config, 'embedding' | 'redaction'>,
  onRedacted?: OnRedacted,
): EmbeddingProvider {
  const e = config.embedding;
  if (e.offline || !e.baseUrl) return createOfflineEmbedder({ model: e.model, dimensions: e.dimensions });
  const remote = createOpenAiEmbedder({
    baseUrl: e.baseUrl,
    apiKey: e.apiKey,
    model: e.model,
    dimensions: e.dimensions,
  });
  if (!redactsFor(config.redaction.mode, e.baseUrl)) return remote;
  return redactingEmbedder(remote, createRedactor(config.redaction.patterns), onRedacted);
}
