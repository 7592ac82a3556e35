-- Enclave core schema (DESIGN.md "Data model"). Forward-only: never edit once released; add 002_….
CREATE EXTENSION IF NOT EXISTS vector;

-- People -------------------------------------------------------------------------------------
CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  name          text NOT NULL,
  password_hash text,                      -- null for users who only sign in with SSO
  role          text NOT NULL DEFAULT 'employee' CHECK (role IN ('employee', 'agent', 'admin')),
  disabled      boolean NOT NULL DEFAULT false,
  external_id   text UNIQUE,               -- OIDC subject
  skills        text[] NOT NULL DEFAULT '{}',
  capacity      integer NOT NULL DEFAULT 5 CHECK (capacity >= 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_idx ON users (role) WHERE NOT disabled;

CREATE TABLE groups (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE user_groups (
  user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group_idx ON user_groups (group_id);

-- Browser sessions and personal API tokens: only a hash of the secret is stored.
CREATE TABLE sessions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE,
  ip           text,
  user_agent   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  prefix       text NOT NULL,               -- first characters, to recognise a token in a list
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Knowledge ----------------------------------------------------------------------------------
CREATE TABLE collections (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Who may read a collection; no rows = everyone.
CREATE TABLE collection_groups (
  collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  group_id      uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  PRIMARY KEY (collection_id, group_id)
);

CREATE TABLE documents (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  title         text NOT NULL,
  source        text NOT NULL CHECK (source IN ('upload', 'text', 'url', 'faq')),
  source_url    text,
  mime          text NOT NULL,
  size_bytes    bigint NOT NULL DEFAULT 0,
  sha256        text NOT NULL,
  storage_key   text,                       -- the original file in blob storage
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'ready', 'failed', 'disabled')),
  error         text,
  progress      real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
  chunk_count   integer NOT NULL DEFAULT 0,
  version       integer NOT NULL DEFAULT 1, -- bumped by re-index; job ids derive from it
  metadata      jsonb NOT NULL DEFAULT '{}',
  created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (collection_id, sha256)
);
CREATE INDEX documents_collection_idx ON documents (collection_id, created_at DESC);

-- Narrows a document's readers below its collection's; no rows = the collection's readers.
CREATE TABLE document_groups (
  document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  PRIMARY KEY (document_id, group_id)
);

-- The embedding space the `chunks.embedding` column holds (one row). Its dimension is fixed at
-- first start from config; a different model later is a re-embed (see embedding-space.ts).
CREATE TABLE embedding_space (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  model      text NOT NULL,
  dimensions integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chunks (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id   uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  ord           integer NOT NULL,
  text          text NOT NULL,
  token_count   integer NOT NULL,
  metadata      jsonb NOT NULL DEFAULT '{}', -- page, headings
  embedding     vector(512),
  tsv           tsvector NOT NULL,           -- built from segmented text (Chinese words, stemmed English)
  UNIQUE (document_id, ord)
);
CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX chunks_tsv_gin ON chunks USING gin (tsv);
CREATE INDEX chunks_collection_idx ON chunks (collection_id);

-- Bots ---------------------------------------------------------------------------------------
CREATE TABLE bots (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug           text NOT NULL UNIQUE,
  name           text NOT NULL,
  description    text NOT NULL DEFAULT '',
  greeting       text NOT NULL DEFAULT '',
  language       text NOT NULL DEFAULT 'auto',
  collection_ids uuid[] NOT NULL DEFAULT '{}',
  prompts        jsonb NOT NULL DEFAULT '{}', -- overrides of prompts/ templates by name
  model          jsonb NOT NULL DEFAULT '{}', -- endpoint, model, temperature, maxTokens
  handoff        jsonb NOT NULL DEFAULT '{}', -- enabled, minScore, triggerWords, team, auto
  enabled        boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Conversations ------------------------------------------------------------------------------
CREATE TABLE conversations (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind              text NOT NULL CHECK (kind IN ('bot', 'support', 'direct', 'group')),
  bot_id            uuid REFERENCES bots (id) ON DELETE SET NULL,
  title             text NOT NULL DEFAULT '',
  status            text NOT NULL DEFAULT 'bot' CHECK (status IN ('bot', 'queued', 'assigned', 'resolved')),
  assignee_id       uuid REFERENCES users (id) ON DELETE SET NULL,
  team              text,
  priority          integer NOT NULL DEFAULT 0,
  handoff_reason    text,
  created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  last_message_at   timestamptz NOT NULL DEFAULT now(),
  queued_at         timestamptz,
  first_response_at timestamptz,
  resolved_at       timestamptz
);
CREATE INDEX conversations_queue_idx ON conversations (priority DESC, queued_at) WHERE status = 'queued';
CREATE INDEX conversations_assignee_idx ON conversations (assignee_id) WHERE status = 'assigned';

CREATE TABLE conversation_members (
  conversation_id      uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role                 text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member', 'agent')),
  last_read_message_id bigint NOT NULL DEFAULT 0,
  joined_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id);

CREATE TABLE messages (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the order of a conversation
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  sender_type     text NOT NULL CHECK (sender_type IN ('user', 'bot', 'agent', 'system')),
  sender_id       uuid,                       -- user id, or bot id for bot messages
  body            text NOT NULL,
  citations       jsonb NOT NULL DEFAULT '[]',
  attachments     jsonb NOT NULL DEFAULT '[]',
  status          text NOT NULL DEFAULT 'complete' CHECK (status IN ('streaming', 'complete', 'failed')),
  client_id       text,
  internal        boolean NOT NULL DEFAULT false, -- agent-only note
  created_at      timestamptz NOT NULL DEFAULT now(),
  edited_at       timestamptz,
  deleted_at      timestamptz,
  UNIQUE (sender_id, client_id)               -- a resend with the same clientId is the same message
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

CREATE TABLE conversation_events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  type            text NOT NULL,              -- handoff, claim, transfer, resolve, return, reopen …
  from_status     text,
  to_status       text,
  actor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
  reason          text,                       -- user_request, low_confidence, keyword, agent_transfer …
  details         jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_events_conversation_idx ON conversation_events (conversation_id, id);

-- Quality, usage and accountability -----------------------------------------------------------
CREATE TABLE feedback (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  rating     smallint NOT NULL CHECK (rating IN (-1, 1)),
  comment    text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (message_id, user_id)
);

CREATE TABLE llm_usage (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind              text NOT NULL,            -- answer, rewrite, summary, suggestion, embedding, v1
  model             text NOT NULL,
  bot_id            uuid REFERENCES bots (id) ON DELETE SET NULL,
  user_id           uuid REFERENCES users (id) ON DELETE SET NULL,
  conversation_id   uuid REFERENCES conversations (id) ON DELETE SET NULL,
  prompt_tokens     integer NOT NULL DEFAULT 0,
  completion_tokens integer NOT NULL DEFAULT 0,
  latency_ms        integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_usage_created_idx ON llm_usage (created_at);

-- Append-only; each row carries the hash of the previous one, so an edit breaks the chain.
CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_id    uuid,
  actor_email text,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  ip          text,
  details     jsonb NOT NULL DEFAULT '{}',
  prev_hash   text NOT NULL,
  hash        text NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_action_idx ON audit_log (action, at);
