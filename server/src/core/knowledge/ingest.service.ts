import type { Readable } from 'node:stream';
import type { Database } from '../db/database.ts';
import { PermanentJobError } from '../jobs/job-types.ts';
import type { EmbeddingProvider } from '../llm/embedding-provider.ts';
import type { Logger } from '../logger.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { createChunkRepository, type NewChunk } from './chunk.repository.ts';
import { createDocumentVersionRepository } from './document-version.repository.ts';
import { createDocumentRepository, markIndexed, storageKeyOf, type DocumentRow } from './document.repository.ts';
import { fetchUrl, FetchError, isSitemap, sniffByContentType } from './fetch-url.ts';
import type { ImportAddressPolicy } from './import-address-policy.ts';
import {
  PARSEABLE_MIMES,
  UnparseableError,
  type ParsedDocument,
  type ParseableMime,
} from './parsing/parsed-document.ts';
import type { ParserPool } from './parsing/parser-pool.ts';
import { refusalHint, sniffMime, UNSUPPORTED_TYPE } from './parsing/sniff.ts';
import { presentDocument } from './knowledge.presenter.ts';
import { crawlSettingsOf, createSiteCrawler } from './site-crawl.ts';
import { webMarker } from './sources/web-connectors.ts';
import { DEFAULT_SPLIT, splitSections, type Piece, type SplitOptions } from './text/splitter.ts';
import { instructionFlags } from './text/instruction-like.ts';
import { countTokens, lexemes, tsvectorLiteral } from './text/tokenize.ts';

export const FAQ_MIME = 'application/vnd.enclave.faq+json';

/**
 * How often a document's intermediate progress is written and published while it is indexed.
 * `npm run bench -- ingestion` found small documents spending most of their indexing time on
 * progress: four UPDATEs and eight re-reads of the document row (each published as a frame) for
 * a one-chunk passage.
 */
const PROGRESS_INTERVAL_MS = 250;

type SplitPiece = Piece & { kind: NewChunk['kind']; faqQuestion?: string };

export interface IngestLimits {
  maxBytes: number;
  fetchTimeoutMs: number;
  /** Which addresses URL imports and crawls may reach. */
  addresses: ImportAddressPolicy;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** The text a chunk is indexed (embedded, full-text) under: its heading path, then its text. */
export function indexText(piece: Pick<Piece, 'text' | 'metadata'>, title?: string): string {
  const heads = piece.metadata.headings?.filter((h) => !piece.text.startsWith(h)) ?? [];
  return [title, ...heads, piece.text].filter(Boolean).join('\n');
}

/**
 * The ingestion pipeline: parse (in the parser pool's threads) → split → embed in batches →
 * replace the document's chunks in one transaction. Runs as a job keyed by document id + version:
 * a job for a superseded version, a deleted document or an already indexed version does nothing.
 */
export function createIngestionService(deps: {
  db: Database;
  storage: BlobStorage;
  bus: Pick<RealtimeBus, 'publish'>;
  embedder: EmbeddingProvider;
  parser: Pick<ParserPool, 'parse'>;
  logger: Logger;
  limits: IngestLimits;
  split?: SplitOptions;
  /** Prefix chunks' index text with the document title. */
  titleInIndex?: boolean;
}) {
  const { db, storage, bus, embedder, parser, logger, limits } = deps;
  const documents = createDocumentRepository(db);

  async function publish(row: DocumentRow | undefined) {
    if (row) await bus.publish({ type: 'document.updated', document: presentDocument(row) }).catch(() => {});
  }

  const fetchLimits = { timeoutMs: limits.fetchTimeoutMs, maxBytes: limits.maxBytes, addresses: limits.addresses };
  const crawl = createSiteCrawler({
    documents,
    storage,
    fetchLimits,
    logger,
    publish,
    indexPage: (id) => processDocument(id, 1, { number: 1, max: 1 }),
  });

  async function progress(doc: DocumentRow, fraction: number) {
    await publish(await documents.updateProgress(doc.id, doc.version, { progress: Math.min(0.99, fraction) }));
  }

  /** Bytes and their sniffed type: from storage, or fetched (URL imports) and stored now. */
  async function loadBytes(
    doc: DocumentRow,
  ): Promise<{ bytes: Buffer; mime: ParseableMime | undefined; fetchedHtml?: string }> {
    if (doc.storage_key) {
      const stream = await storage.get(doc.storage_key);
      if (!stream) throw new PermanentJobError('The original file is missing from storage');
      const bytes = await readAll(stream);
      // The type was sniffed when the bytes arrived (upload, fetch); sniff again only if unknown.
      const mime = (PARSEABLE_MIMES as readonly string[]).includes(doc.mime)
        ? (doc.mime as ParseableMime)
        : sniffMime(bytes.subarray(0, 8192), doc.metadata.filename as string | undefined);
      return {
        bytes,
        mime,
        ...(doc.source === 'url' && mime === 'text/html' ? { fetchedHtml: bytes.toString('utf8') } : {}),
      };
    }
    if (doc.source !== 'url' || !doc.source_url) throw new PermanentJobError('The document has no content');
    const fetched = await fetchUrl(doc.source_url, fetchLimits);
    const mime = sniffByContentType(fetched.bytes, fetched.contentType, fetched.url);
    const key = storageKeyOf(doc.id);
    const stored = await storage.put(key, fetched.bytes, { maxBytes: limits.maxBytes });
    await documents.setStorage(doc.id, {
      storageKey: key,
      sizeBytes: stored.size,
      mime: mime ?? (fetched.contentType || 'application/octet-stream'),
    });
    // What a refresh compares the page with: its first version's hash and validators.
    await createDocumentVersionRepository(db).setFirstHash(doc.id, stored.sha256, stored.size);
    await documents.setMarker(doc.id, webMarker(fetched));
    return {
      bytes: fetched.bytes,
      mime,
      ...(mime === 'text/html' ? { fetchedHtml: fetched.bytes.toString('utf8') } : {}),
    };
  }

  async function piecesOf(
    doc: DocumentRow,
    bytes: Buffer,
    mime: ParseableMime | undefined,
  ): Promise<{ pieces: SplitPiece[]; parsed?: ParsedDocument }> {
    if (doc.source === 'faq') {
      const { question, answer } = JSON.parse(bytes.toString('utf8')) as { question: string; answer: string };
      const text = `${question}\n${answer}`;
      return { pieces: [{ text, tokenCount: countTokens(text), metadata: {}, kind: 'faq', faqQuestion: question }] };
    }
    if (!mime)
      throw new UnparseableError(
        refusalHint(bytes.subarray(0, 8192), doc.metadata.filename as string) ?? UNSUPPORTED_TYPE,
      );
    if (isSitemap(bytes)) return { pieces: [] };
    const parsed = await parser.parse(new Uint8Array(bytes), mime);
    const pieces = await splitSections(parsed.sections, deps.split ?? DEFAULT_SPLIT);
    if (!pieces.length) throw new UnparseableError('No text could be extracted from this file');
    return { pieces: pieces.map((p) => ({ ...p, kind: 'passage' as const })), parsed };
  }

  /** Loads, parses and splits a document: the pieces and the text each is indexed under. */
  async function prepare(doc: DocumentRow, onProgress: (f: number) => Promise<void>) {
    const { bytes, mime, fetchedHtml } = await loadBytes(doc);
    await onProgress(0.15);
    const { pieces, parsed } = await piecesOf(doc, bytes, mime);
    await onProgress(0.3);
    if (parsed?.pageCount || (parsed?.title && doc.source === 'url')) {
      await documents.updateProgress(doc.id, doc.version, {
        pageCount: parsed.pageCount ?? null,
        ...(parsed.title && doc.source === 'url' ? { title: parsed.title } : {}),
      });
    }
    const title = deps.titleInIndex ? doc.title : undefined;
    return { bytes, pieces, texts: pieces.map((p) => indexText(p, title)), ...(fetchedHtml ? { fetchedHtml } : {}) };
  }

  /** Embeds in the embedder's batches (across documents when several are indexed together). */
  async function embedAll(texts: string[], onProgress: (f: number) => Promise<void>): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let i = 0; i < texts.length; i += embedder.batchSize) {
      vectors.push(...(await embedder.embed(texts.slice(i, i + embedder.batchSize), 'document')));
      await onProgress(0.3 + 0.6 * Math.min(1, (i + embedder.batchSize) / texts.length));
    }
    return vectors;
  }

  async function chunksOf(pieces: SplitPiece[], texts: string[], vectors: number[][]): Promise<NewChunk[]> {
    const chunks: NewChunk[] = [];
    for (const [ord, piece] of pieces.entries()) {
      if (ord > 0 && ord % 16 === 0) await new Promise((resolve) => setImmediate(resolve)); // keep the event loop responsive
      // A FAQ's question counts twice in the full-text index: it is what people will ask.
      const tokens = piece.faqQuestion
        ? [...lexemes(piece.faqQuestion, 'index'), ...lexemes(texts[ord]!, 'index')]
        : lexemes(texts[ord]!, 'index');
      chunks.push({
        ord,
        text: piece.text,
        tokenCount: piece.tokenCount,
        // `lexemes`: the BM25 document length.
        metadata: { ...piece.metadata, lexemes: tokens.length },
        embedding: vectors[ord]!,
        tsv: tsvectorLiteral(tokens),
        kind: piece.kind,
        flags: instructionFlags(piece.text),
      });
    }
    return chunks;
  }

  /**
   * Replaces the chunks of documents in one transaction. Returns the rows as committed; a document
   * deleted or re-indexed while we worked is missing (the newer job, or nobody, writes its chunks).
   */
  async function writeChunks(items: { doc: DocumentRow; chunks: NewChunk[] }[]): Promise<DocumentRow[]> {
    const indexed = await db.transaction(async (tx) => {
      const marked = await markIndexed(
        tx,
        items.map(({ doc, chunks }) => ({
          id: doc.id,
          version: doc.version,
          chunkCount: chunks.length,
          done: !crawlSettingsOf(doc),
        })),
      );
      if (!marked.length) return [];
      const current = new Set(marked.map((r) => r.id));
      const repo = createChunkRepository(tx);
      const excluded = await repo.excludedTexts([...current]);
      await repo.deleteForDocuments([...current]);
      await repo.insertMany(
        items
          .filter(({ doc }) => current.has(doc.id))
          .map(({ doc, chunks }) => ({ documentId: doc.id, collectionId: doc.collection_id, chunks })),
        excluded,
      );
      return marked;
    });
    for (const row of indexed)
      logger.info({ documentId: row.id, version: row.version, chunks: row.chunk_count }, 'document indexed');
    return indexed;
  }

  /** `indexed`: the row as committed with the chunks, undefined if a delete or re-index overtook the job. */
  async function index(
    doc: DocumentRow,
    onProgress: (f: number) => Promise<void>,
  ): Promise<{ fetchedHtml?: string; bytes: Buffer; indexed: DocumentRow | undefined }> {
    const { bytes, pieces, texts, fetchedHtml } = await prepare(doc, onProgress);
    const chunks = await chunksOf(pieces, texts, await embedAll(texts, onProgress));
    const [indexed] = await writeChunks([{ doc, chunks }]);
    return { bytes, indexed, ...(fetchedHtml ? { fetchedHtml } : {}) };
  }

  /** The document's status after an error: failed for good, or queued for the job's next attempt. */
  async function recordFailure(
    doc: DocumentRow,
    error: unknown,
    attempt: { number: number; max: number },
  ): Promise<{ permanent: boolean; message: string }> {
    const message = error instanceof Error ? error.message : String(error);
    const permanent =
      error instanceof UnparseableError ||
      error instanceof PermanentJobError ||
      (error instanceof FetchError && error.permanent);
    const final = permanent || attempt.number >= attempt.max;
    await publish(
      await documents.updateProgress(
        doc.id,
        doc.version,
        final
          ? { status: 'failed', progress: 0, error: message }
          : { status: 'queued', error: `${message} (will retry)` },
      ),
    );
    return { permanent, message };
  }

  async function processDocument(
    documentId: string,
    version: number,
    attempt: { number: number; max: number },
  ): Promise<{ fetchedHtml?: string } | undefined> {
    // Deleted, superseded by a re-index, or a duplicate delivery of an indexed version: nothing to do.
    const doc = await documents.claim(documentId, version);
    if (!doc) return undefined;
    await publish(doc);
    try {
      // Intermediate progress at most every PROGRESS_INTERVAL_MS: a passage indexed in a few
      // milliseconds is not worth a write, a re-read and a frame per step (the start and the end
      // are always published).
      let lastProgress = Date.now();
      const result = await index(doc, async (f) => {
        if (Date.now() - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = Date.now();
        await progress(doc, crawlSettingsOf(doc) ? f / 2 : f);
      });
      const settings = crawlSettingsOf(doc);
      if (settings && result.indexed) {
        await publish(result.indexed);
        await crawl(result.indexed, result.fetchedHtml, settings, result.bytes);
        await publish(await documents.updateProgress(doc.id, version, { status: 'ready', progress: 1 }));
      } else {
        await publish(result.indexed);
      }
      return result;
    } catch (error) {
      const { permanent, message } = await recordFailure(doc, error, attempt);
      if (permanent) throw new PermanentJobError(message, { cause: error });
      throw error;
    }
  }

  /**
   * Small text and FAQ documents of one bulk import: claimed in one statement, embedded together,
   * their chunks written in one transaction. A document that cannot be indexed fails alone; an
   * error that may pass (the database, a remote embedder) leaves the others queued and the job
   * retries them — those already indexed are not claimed again.
   */
  async function processBatch(
    documentIds: string[],
    version: number,
    attempt: { number: number; max: number },
  ): Promise<void> {
    const claimed = await documents.claimMany(documentIds, version);
    await Promise.all(claimed.map(publish));
    const prepared: { doc: DocumentRow; pieces: SplitPiece[]; texts: string[] }[] = [];
    let retry: unknown;
    // All at once: each waits mostly on storage and a parser thread, and the documents are small.
    await Promise.all(
      claimed.map(async (doc) => {
        try {
          prepared.push({ doc, ...(await prepare(doc, async () => {})) });
        } catch (error) {
          if (!(await recordFailure(doc, error, attempt)).permanent) retry ??= error;
        }
      }),
    );
    if (prepared.length) {
      try {
        const vectors = await embedAll(
          prepared.flatMap((p) => p.texts),
          async () => {},
        );
        const written: { doc: DocumentRow; chunks: NewChunk[] }[] = [];
        let offset = 0;
        for (const p of prepared) {
          written.push({
            doc: p.doc,
            chunks: await chunksOf(p.pieces, p.texts, vectors.slice(offset, offset + p.texts.length)),
          });
          offset += p.texts.length;
        }
        await Promise.all((await writeChunks(written)).map(publish));
      } catch (error) {
        for (const p of prepared) await recordFailure(p.doc, error, attempt);
        throw error;
      }
    }
    if (retry) throw retry;
  }

  return {
    /** The `ingest-document` job. */
    async process(documentId: string, version: number, attempt: { number: number; max: number }): Promise<void> {
      await processDocument(documentId, version, attempt);
    },
    /** The `ingest-batch` job. */
    processBatch,
  };
}

export type IngestionService = ReturnType<typeof createIngestionService>;
