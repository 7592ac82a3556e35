-- Audit records are linked into the chain when their transaction commits, not when they are added.
-- Writers serialise on the chain's advisory lock (it is held until the commit, so the next writer
-- reads this one's hash). Taken by the application, the lock, the read of the head and the insert
-- were three round trips inside that hold, and the commit a fourth: every document POST waited on
-- it (`npm run bench -- ingestion`, Postgres). Taken here, by a deferred trigger, the hold is the
-- commit itself.
--
-- A transaction adds its records to audit_pending with their canonical body (audit.service.ts);
-- at commit each is moved to audit_log with prev_hash = the head's hash and
-- hash = sha256(prev_hash || '\n' || body), as it always was, so verification is unchanged. A
-- pending row never outlives its transaction: rolled back with it, or deleted when linked.
CREATE UNLOGGED TABLE audit_pending (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  body        text NOT NULL,
  at          timestamptz NOT NULL,
  actor_id    uuid,
  actor_email text,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  ip          text,
  details     jsonb NOT NULL
);

CREATE FUNCTION audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  prev text;
BEGIN
  -- The chain lock of audit.repository.ts (retention takes it too).
  PERFORM pg_advisory_xact_lock(4242010);
  -- A new statement after the lock: under READ COMMITTED it sees every writer that held it before.
  SELECT a.hash INTO prev FROM audit_log a ORDER BY a.id DESC LIMIT 1;
  -- The first record of a chain links to 64 zeros.
  prev := COALESCE(prev, repeat('0', 64));
  INSERT INTO audit_log (at, actor_id, actor_email, action, target_type, target_id, ip, details, prev_hash, hash)
  VALUES (NEW.at, NEW.actor_id, NEW.actor_email, NEW.action, NEW.target_type, NEW.target_id, NEW.ip, NEW.details, prev,
          encode(sha256(convert_to(prev || E'\n' || NEW.body, 'UTF8')), 'hex'));
  DELETE FROM audit_pending WHERE seq = NEW.seq;
  RETURN NULL;
END $$;

-- Deferred: fires at COMMIT, in the order the records were added.
CREATE CONSTRAINT TRIGGER audit_pending_link AFTER INSERT ON audit_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_link();
