-- Identity and audit hardening.

-- Failed sign-in counters per IP, per account and per account+IP (see login-throttle.ts).
CREATE TABLE login_throttle (
  key               text PRIMARY KEY,
  failures          integer NOT NULL DEFAULT 0,
  window_started_at timestamptz NOT NULL DEFAULT now(),
  locked_until      timestamptz,
  lockouts          integer NOT NULL DEFAULT 0
);

-- Users created by single sign-on remember which groups the identity provider gave them, so a
-- later login can remove exactly those when the provider stops sending them.
ALTER TABLE user_groups ADD COLUMN source text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'sso'));

-- The audit log is append-only. Rows can be deleted only by the retention job, which sets
-- enclave.audit_prune for its own transaction; a hash chain catches anything done around this.
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('enclave.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);
