-- A knowledge gap an admin answered with an FAQ entry. `gap_key` is the question folded the way
-- the gaps report groups questions (case, spacing and punctuation ignored). The gap counts as
-- resolved while nobody asked it unanswered after `resolved_at`; deleting the FAQ document
-- deletes the resolution, so the gap is open again.
CREATE TABLE gap_resolutions (
  gap_key     text PRIMARY KEY,
  question    text NOT NULL,
  document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
  resolved_at timestamptz NOT NULL DEFAULT now()
);

-- An agent's reply proposed as an FAQ entry. Nothing is indexed until an admin approves it
-- (possibly edited, into a collection and readers of their choosing); a rejected draft stays for
-- the record.
CREATE TABLE faq_drafts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  question        text NOT NULL CHECK (char_length(question) BETWEEN 1 AND 1000),
  answer          text NOT NULL CHECK (char_length(answer) BETWEEN 1 AND 20000),
  conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL,
  message_id      bigint REFERENCES messages (id) ON DELETE SET NULL,
  proposed_by     uuid REFERENCES users (id) ON DELETE SET NULL,
  proposed_at     timestamptz NOT NULL DEFAULT now(),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  reviewed_by     uuid REFERENCES users (id) ON DELETE SET NULL,
  reviewed_at     timestamptz,
  document_id     uuid REFERENCES documents (id) ON DELETE SET NULL
);
CREATE INDEX faq_drafts_pending_idx ON faq_drafts (proposed_at DESC) WHERE status = 'pending';
-- One open draft per agent reply: proposing the same reply twice returns the first draft.
CREATE UNIQUE INDEX faq_drafts_message_key ON faq_drafts (message_id) WHERE status = 'pending';
