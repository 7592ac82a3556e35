-- Canned replies for the agent console: shared ones (owner_id NULL, written by admins) and each
-- agent's personal ones. A shortcut is unique within what one agent sees of its kind: among the
-- shared ones, and among one agent's own (a personal one may shadow a shared one of the same name).
CREATE TABLE canned_replies (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id   uuid REFERENCES users (id) ON DELETE CASCADE,
  shortcut   text NOT NULL CHECK (char_length(shortcut) BETWEEN 1 AND 40),
  body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX canned_replies_shared_shortcut_idx ON canned_replies (lower(shortcut)) WHERE owner_id IS NULL;
CREATE UNIQUE INDEX canned_replies_personal_shortcut_idx ON canned_replies (owner_id, lower(shortcut))
  WHERE owner_id IS NOT NULL;
