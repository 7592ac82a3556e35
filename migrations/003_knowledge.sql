-- Knowledge: ingestion state, enable/disable, crawled pages, FAQ units.

-- A disabled document keeps its chunks but is never returned by search; `status` stays the
-- pipeline state (queued → processing → ready | failed).
ALTER TABLE documents ADD COLUMN enabled boolean NOT NULL DEFAULT true;
-- Pages found by a site crawl point at the document the crawl started from.
ALTER TABLE documents ADD COLUMN parent_id uuid REFERENCES documents (id) ON DELETE SET NULL;
-- Which version's chunks are in the index (0 = none yet); a job for an older version is a no-op.
ALTER TABLE documents ADD COLUMN indexed_version integer NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN page_count integer;
ALTER TABLE documents ADD COLUMN started_at timestamptz;
ALTER TABLE documents ADD COLUMN finished_at timestamptz;

-- Documents a restart must pick up again (the embedded runner keeps jobs in memory).
CREATE INDEX documents_pending_idx ON documents (status) WHERE status IN ('queued', 'processing');
CREATE INDEX documents_parent_idx ON documents (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX document_groups_group_idx ON document_groups (group_id);
CREATE INDEX collection_groups_group_idx ON collection_groups (group_id);

-- A FAQ pair is one chunk; search prefers it when it matches.
ALTER TABLE chunks ADD COLUMN kind text NOT NULL DEFAULT 'passage' CHECK (kind IN ('passage', 'faq'));
