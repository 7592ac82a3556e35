import type { DocumentVersionRow } from '../document-version.repository.ts';
import { nextRun } from './schedule.ts';
import type { SourceRow, SourceRunRow } from './source.repository.ts';

function presentSourceRun(r: SourceRunRow) {
  return {
    id: r.id,
    trigger: r.trigger,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    added: r.changes.added ?? 0,
    updated: r.changes.updated ?? 0,
    unchanged: r.changes.unchanged ?? 0,
    retired: r.changes.retired ?? 0,
    failures: r.changes.failures ?? [],
  };
}

/** A source with its recent runs (newest first): last refresh, next refresh, what changed, what failed. */
export function presentSource({ source, runs }: { source: SourceRow; runs: SourceRunRow[] }) {
  const finished = runs.find((r) => r.finished_at);
  return {
    id: source.id,
    collectionId: source.collection_id,
    kind: source.kind,
    location: source.location,
    schedule: source.schedule,
    nextRefreshAt: nextRun(source.schedule),
    documentCount: source.document_count,
    retiredCount: source.retired_count,
    running: runs.some((r) => !r.finished_at),
    lastRun: finished ? presentSourceRun(finished) : null,
    runs: runs.map(presentSourceRun),
    createdAt: source.created_at,
  };
}

export type PresentedSource = ReturnType<typeof presentSource>;

export function presentDocumentVersion(v: DocumentVersionRow) {
  return {
    number: v.number,
    contentHash: v.content_hash,
    sizeBytes: Number(v.size_bytes),
    origin: v.origin,
    createdBy: v.created_by ? { id: v.created_by, name: v.created_by_name } : null,
    runId: v.run_id,
    createdAt: v.created_at,
  };
}

export type PresentedDocumentVersion = ReturnType<typeof presentDocumentVersion>;
