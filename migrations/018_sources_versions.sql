-- Knowledge that stays in step with where it came from: sources (a URL, a crawled site, a server
-- folder) refreshed on demand or on a schedule, and versions of each document.

-- A folder sync's files are documents too.
ALTER TABLE documents DROP CONSTRAINT documents_source_check;
ALTER TABLE documents ADD CONSTRAINT documents_source_check CHECK (source IN ('upload', 'text', 'url', 'faq', 'folder'));

CREATE TABLE sources (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('url', 'site', 'folder')),
  -- The URL (url, site) or the directory on the server (folder).
  location      text NOT NULL,
  -- A site's crawl bounds ({depth, maxPages}).
  settings      jsonb NOT NULL DEFAULT '{}',
  -- hourly | daily | weekly | a five-field cron expression (UTC); NULL: refreshed only when asked.
  schedule      text,
  created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (collection_id, kind, location)
);

-- Where a document came from: its source and, within it, a key that stays the same across versions
-- (the page's URL, the file's path under the folder, the FAQ question). `source_marker` is the
-- change marker the last fetch saw (ETag / Last-Modified, a file's size and mtime).
ALTER TABLE documents ADD COLUMN source_id uuid REFERENCES sources (id) ON DELETE SET NULL;
ALTER TABLE documents ADD COLUMN source_key text;
ALTER TABLE documents ADD COLUMN source_marker text;
-- Why a refresh took the document out of search (the page answered 404, the file was removed).
ALTER TABLE documents ADD COLUMN retired_reason text;
CREATE UNIQUE INDEX documents_source_key_idx ON documents (source_id, source_key) WHERE source_id IS NOT NULL;
CREATE UNIQUE INDEX documents_faq_key_idx ON documents (collection_id, source_key) WHERE source = 'faq';

-- Every content version of a document: its hash, when, and who (a user) or what (a refresh) made it.
-- `index_version` is the documents.version whose ingestion job indexes it.
CREATE TABLE document_versions (
  document_id   uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  number        integer NOT NULL,
  -- NULL until a URL import's first fetch.
  content_hash  text,
  size_bytes    bigint NOT NULL DEFAULT 0,
  index_version integer NOT NULL,
  origin        text NOT NULL CHECK (origin IN ('import', 'reimport', 'refresh', 'schedule', 'reindex')),
  created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
  run_id        uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (document_id, number)
);

-- Each refresh of a source: what it found. A scheduled run names its tick: one run per tick
-- however many workers hold the schedule; one run at a time per source.
CREATE TABLE source_runs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source_id    uuid NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
  trigger      text NOT NULL CHECK (trigger IN ('manual', 'schedule', 'reimport', 'reindex')),
  tick         bigint,
  requested_by uuid REFERENCES users (id) ON DELETE SET NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
  error        text,
  -- {added, updated, unchanged, retired, failures: [{key, reason}]}
  changes      jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX source_runs_tick_idx ON source_runs (source_id, tick) WHERE tick IS NOT NULL;
CREATE UNIQUE INDEX source_runs_running_idx ON source_runs (source_id) WHERE finished_at IS NULL;
CREATE INDEX source_runs_recent_idx ON source_runs (source_id, started_at DESC);

-- What exists now: each document its first version; each URL import (and the pages crawled from
-- it) a source of its own.
-- One source per address and collection (a crawl of it wins over a plain import of the same page).
INSERT INTO sources (collection_id, kind, location, settings, created_by, created_at)
SELECT DISTINCT ON (collection_id, source_url)
       collection_id, CASE WHEN metadata ? 'crawl' THEN 'site' ELSE 'url' END, source_url,
       COALESCE(metadata->'crawl', '{}'), created_by, created_at
  FROM documents WHERE source = 'url' AND parent_id IS NULL AND source_url IS NOT NULL
 ORDER BY collection_id, source_url, (metadata ? 'crawl') DESC, created_at
  ON CONFLICT DO NOTHING;
UPDATE documents d SET source_id = s.id, source_key = d.source_url
  FROM sources s
 WHERE d.source = 'url' AND d.parent_id IS NULL AND s.collection_id = d.collection_id AND s.location = d.source_url
   AND s.kind IN ('url', 'site')
   AND d.id = (SELECT min(x.id::text)::uuid FROM documents x
                WHERE x.source = 'url' AND x.parent_id IS NULL AND x.collection_id = d.collection_id AND x.source_url = d.source_url);
UPDATE documents c SET source_id = p.source_id, source_key = c.source_url
  FROM documents p
 WHERE c.parent_id = p.id AND p.source_id IS NOT NULL AND c.source_url IS NOT NULL
   AND c.source_url IS DISTINCT FROM p.source_url -- a link that redirected back to the start page
   AND c.id = (SELECT min(x.id::text)::uuid FROM documents x WHERE x.parent_id = p.id AND x.source_url = c.source_url);
UPDATE documents d SET source_key = d.title
 WHERE d.source = 'faq'
   AND d.id = (SELECT min(x.id::text)::uuid FROM documents x
                WHERE x.source = 'faq' AND x.collection_id = d.collection_id AND x.title = d.title);
INSERT INTO document_versions (document_id, number, content_hash, size_bytes, index_version, origin, created_by, created_at)
SELECT id, 1, CASE WHEN source = 'url' THEN NULL ELSE sha256 END, size_bytes, version, 'import', created_by, created_at
  FROM documents;
