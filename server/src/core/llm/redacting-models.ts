import type { ChatModel } from './chat-model.ts';
import type { EmbeddingProvider } from './embedding-provider.ts';
import { createStreamRestorer, redactedAny, type RedactionCounts, type Redactor } from './redaction.ts';
import type { Reranker } from './rerank-client.ts';

/** Told what kinds of personal data a request had replaced (never the values): metrics, audit. */
export type OnRedacted = (counts: RedactionCounts) => void | Promise<void>;

/**
 * A chat model whose requests carry placeholders instead of personal data, and whose answer — the
 * streamed pieces and the whole — carries the original values again.
 */
export function redactingChatModel(inner: ChatModel, redactor: Redactor, onRedacted?: OnRedacted): ChatModel {
  return {
    model: inner.model,
    async stream(request, onDelta) {
      const redaction = redactor.redact(request.messages.map((m) => m.content));
      if (!redactedAny(redaction.counts)) return inner.stream(request, onDelta);
      await onRedacted?.(redaction.counts);
      const restorer = createStreamRestorer(redaction.restore);
      const messages = request.messages.map((m, i) => ({ ...m, content: redaction.texts[i]! }));
      const result = await inner.stream({ ...request, messages }, (delta) => {
        const restored = restorer.push(delta);
        if (restored) onDelta(restored);
      });
      const rest = restorer.flush();
      if (rest) onDelta(rest);
      return { ...result, text: redaction.restore(result.text) };
    },
  };
}

/**
 * An embedder that embeds placeholders instead of personal data. Queries and documents' chunks
 * alike, so a query's `[PHONE_1]` lies near a chunk's; nothing to restore in a vector.
 */
export function redactingEmbedder(
  inner: EmbeddingProvider,
  redactor: Redactor,
  onRedacted?: OnRedacted,
): EmbeddingProvider {
  return {
    model: inner.model,
    dimensions: inner.dimensions,
    batchSize: inner.batchSize,
    async embed(texts, kind) {
      // One redaction per text: numbering shared across a batch would tie unrelated chunks together.
      const redacted = texts.map((text) => redactor.redact([text]));
      const counts = redacted.map((r) => r.counts).filter(redactedAny);
      for (const c of counts) await onRedacted?.(c);
      return inner.embed(
        redacted.map((r) => r.texts[0]!),
        kind,
      );
    },
  };
}

/** A reranker that ranks the query and passages with placeholders; scores need no restoring. */
export function redactingReranker(inner: Reranker, redactor: Redactor, onRedacted?: OnRedacted): Reranker {
  return {
    model: inner.model,
    async rerank(query, documents, options) {
      const redaction = redactor.redact([query, ...documents]);
      if (!redactedAny(redaction.counts)) return inner.rerank(query, documents, options);
      await onRedacted?.(redaction.counts);
      const [redactedQuery, ...redactedDocuments] = redaction.texts;
      return inner.rerank(redactedQuery!, redactedDocuments, options);
    },
  };
}
