import type { ReadablePassageRow } from './retrieval.repository.ts';
import type { ChunkRow } from './chunk.repository.ts';
import type { CollectionRow } from './collection.repository.ts';
import type { DocumentRow } from './document.repository.ts';
import type { RetiredReason } from './sources/connector.ts';

export function presentCollection(c: CollectionRow) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    readers: c.readers,
    groups: c.groups,
    documentCount: c.document_count,
    createdBy: c.created_by,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}

export type PresentedCollection = ReturnType<typeof presentCollection>;

export function presentDocument(d: DocumentRow) {
  return {
    id: d.id,
    collectionId: d.collection_id,
    title: d.title,
    source: d.source,
    sourceUrl: d.source_url,
    /** The source it is kept in step with (a URL, a crawled site, a folder), and its key there. */
    sourceId: d.source_id,
    sourceKey: d.source_key,
    /** Why a refresh took it out of search: http_404, http_410, removed, outside_folder; null otherwise. */
    retiredReason: d.retired_reason as RetiredReason | null,
    mime: d.mime,
    // The title drops the extension; the list shows the file as it was uploaded.
    filename: typeof d.metadata.filename === 'string' ? d.metadata.filename : null,
    sizeBytes: Number(d.size_bytes),
    sha256: d.sha256,
    status: d.status,
    progress: Number(d.progress),
    error: d.error,
    chunkCount: d.chunk_count,
    flaggedChunks: d.flagged_chunks,
    excludedFlaggedChunks: d.excluded_flagged_chunks,
    pageCount: d.page_count,
    enabled: d.enabled,
    version: d.version,
    readers: d.readers,
    groups: d.groups ?? [],
    parentId: d.parent_id,
    hasFile: d.storage_key !== null,
    createdBy: d.created_by,
    createdAt: d.created_at,
    updatedAt: d.updated_at,
    startedAt: d.started_at,
    finishedAt: d.finished_at,
  };
}

export type PresentedDocument = ReturnType<typeof presentDocument>;

export function presentChunk(c: ChunkRow) {
  return {
    id: String(c.id),
    documentId: c.document_id,
    ord: c.ord,
    text: c.text,
    tokenCount: c.token_count,
    kind: c.kind,
    page: c.metadata.page ?? null,
    headings: c.metadata.headings ?? [],
    flags: c.flags,
    excluded: c.excluded,
  };
}

export type PresentedChunk = ReturnType<typeof presentChunk>;

/** A document opened from a citation: its title and the passages the reader may read, in order (the web app imports this type). */
export function presentReadableDocument(passages: ReadablePassageRow[]) {
  const first = passages[0]!;
  return {
    id: first.document_id,
    title: first.title,
    url: first.source_url,
    passages: passages.map((p) => ({
      chunkId: p.chunk_id,
      ord: p.ord,
      text: p.text,
      page: p.metadata.page ?? null,
      headings: p.metadata.headings ?? [],
    })),
  };
}

export type ReadableDocument = ReturnType<typeof presentReadableDocument>;
