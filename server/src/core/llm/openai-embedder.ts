import OpenAI from 'openai';
import type { EmbeddingProvider } from './embedding-provider.ts';

/**
 * Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Azure, vLLM, Ollama, Xinference …).
 * Floats are asked for explicitly: self-hosted servers often ignore base64.
 */
export function createOpenAiEmbedder(options: {
  baseUrl: string;
  apiKey?: string | undefined;
  model: string;
  dimensions: number;
  batchSize?: number;
  timeoutMs?: number;
}): EmbeddingProvider {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey ?? 'not-needed',
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: 2,
  });
  return {
    model: options.model,
    dimensions: options.dimensions,
    batchSize: options.batchSize ?? 64,
    async embed(texts) {
      if (!texts.length) return [];
      const response = await client.embeddings.create({
        model: options.model,
        input: texts,
        dimensions: options.dimensions,
        encoding_format: 'float',
      });
      const vectors = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== texts.length)
        throw new Error(`The embedding endpoint returned ${vectors.length} vectors for ${texts.length} texts`);
      for (const v of vectors) {
        if (v.length !== options.dimensions) {
          throw new Error(
            `The embedding model "${options.model}" returned ${v.length} dimensions but EMBEDDING_DIMENSIONS is ${options.dimensions}`,
          );
        }
      }
      return vectors;
    },
  };
}
