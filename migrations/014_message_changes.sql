-- Every change to a message is numbered, so a reconnecting socket can be sent what changed while it
-- was away (a bot answer completed, an edit, a deletion), not only the messages that are new.
-- The numbers come from the messages' own id sequence: a new message's number is its id, a change
-- takes the next value, so "changed after message N was created" is `updated_seq > N`.
ALTER TABLE messages ADD COLUMN updated_seq bigint;
-- When the change was written (clock time, not the transaction's start): a resume also re-sends
-- what changed just before the client's cursor, since commits and their live events can arrive
-- slightly out of id order.
ALTER TABLE messages ADD COLUMN changed_at timestamptz;
UPDATE messages SET updated_seq = id, changed_at = COALESCE(deleted_at, edited_at, created_at);
ALTER TABLE messages ALTER COLUMN updated_seq SET NOT NULL;
ALTER TABLE messages ALTER COLUMN changed_at SET NOT NULL;
-- A resume reads by either: what changed after the client's newest change, and what changed shortly before it.
CREATE INDEX messages_updated_seq_idx ON messages (updated_seq);
CREATE INDEX messages_changed_at_idx ON messages (changed_at);

CREATE FUNCTION messages_number_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An insert that carries its numbers is a restore from a backup: they stay as they were.
  IF TG_OP = 'INSERT' THEN
    NEW.updated_seq := COALESCE(NEW.updated_seq, NEW.id);
    NEW.changed_at := COALESCE(NEW.changed_at, clock_timestamp());
  ELSE
    NEW.updated_seq := nextval(pg_get_serial_sequence('messages', 'id'));
    NEW.changed_at := clock_timestamp();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER messages_number_change BEFORE INSERT OR UPDATE ON messages
  FOR EACH ROW EXECUTE FUNCTION messages_number_change();
