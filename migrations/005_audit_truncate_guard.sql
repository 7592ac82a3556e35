-- The append-only guard of 002 fires per row on UPDATE and DELETE. TRUNCATE fires no row
-- triggers, so it could empty the audit log, and a chain restarted from nothing verifies as
-- intact. Refuse it too (retention deletes rows; it never truncates).
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();
