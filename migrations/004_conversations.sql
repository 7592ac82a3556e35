-- Conversations in real time: routing, assignment, edits and attachments.

-- Only bot and support conversations move through the routing states; direct and group chats have none.
ALTER TABLE conversations ALTER COLUMN status DROP NOT NULL;
ALTER TABLE conversations ALTER COLUMN status DROP DEFAULT;
ALTER TABLE conversations ADD CONSTRAINT conversations_status_by_kind
  CHECK ((kind IN ('bot', 'support')) = (status IS NOT NULL));
ALTER TABLE conversations ADD COLUMN claimed_at timestamptz;
CREATE INDEX conversations_last_message_idx ON conversations (last_message_at DESC);

-- Agents: available for automatic assignment or away; round-robin among equally loaded agents.
ALTER TABLE users ADD COLUMN available boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN last_assigned_at timestamptz;

-- Every edit and delete keeps what was there before.
CREATE TABLE message_revisions (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id    bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  editor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
  action        text NOT NULL CHECK (action IN ('edit', 'delete')),
  previous_body text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_revisions_message_idx ON message_revisions (message_id);

-- Files attached to messages; the bytes live in blob storage under storage_key.
CREATE TABLE attachments (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  uploader_id     uuid REFERENCES users (id) ON DELETE SET NULL,
  message_id      bigint REFERENCES messages (id) ON DELETE SET NULL,
  storage_key     text NOT NULL,
  filename        text NOT NULL,
  mime            text NOT NULL,
  size_bytes      bigint NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_conversation_idx ON attachments (conversation_id);
