import type { Config } from '../../config.ts';
import type { EmbeddingProvider } from './embedding-provider.ts';
import { createOfflineEmbedder } from './offline-embedder.ts';
import { createOpenAiEmbedder } from './openai-embedder.ts';

/** The configured embedding provider: the offline embedder unless EMBEDDING_MODEL is set. */
export function createEmbedder(config: Pick<Config, 'embedding'>): EmbeddingProvider {
  const e = config.embedding;
  if (e.offline || !e.baseUrl) return createOfflineEmbedder({ model: e.model, dimensions: e.dimensions });
  return createOpenAiEmbedder({ baseUrl: e.baseUrl, apiKey: e.apiKey, model: e.model, dimensions: e.dimensions });
}
