-- Personal API tokens carry scopes: `chat` (the OpenAI-compatible /v1) and `api` (the REST API and
-- the WebSocket). Tokens made before scopes existed could do everything, so they get both and keep
-- working; minting tokens is no scope at all (only a signed-in session may). New tokens always name
-- their scopes (the server defaults to `chat`), hence no column default after the backfill.
ALTER TABLE api_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT ARRAY['chat', 'api'];
ALTER TABLE api_tokens ALTER COLUMN scopes DROP DEFAULT;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_known
  CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['chat', 'api']);
