-- Where a conversation's title came from: the first question cleaned ('question') or a short title a
-- chat model wrote after the first answer ('model'). A model title is written once and not replaced.
ALTER TABLE conversations ADD COLUMN title_source text NOT NULL DEFAULT 'question'
  CHECK (title_source IN ('question', 'model'));

-- An employee's satisfaction with a conversation a person resolved (CSAT): one rating per
-- conversation and user, which rating again changes.
CREATE TABLE conversation_ratings (
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_ratings_updated_idx ON conversation_ratings (updated_at);
