-- Passages that read as instructions to a model ("ignore all previous instructions", role tags …),
-- flagged at ingestion by the names of the rules they trip (text/instruction-like.ts). An admin
-- may exclude a passage: retrieval never returns it, whoever asks.
ALTER TABLE chunks ADD COLUMN flags text[] NOT NULL DEFAULT '{}';
ALTER TABLE chunks ADD COLUMN excluded boolean NOT NULL DEFAULT false;

-- The documents list counts each document's flagged passages.
CREATE INDEX chunks_flagged_idx ON chunks (document_id) WHERE cardinality(flags) > 0;
