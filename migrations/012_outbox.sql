-- Work that must follow a commit (answer a question, index a document) is written in the same
-- transaction as the change, and handed to the job runner by a relay in every server and worker
-- (core/jobs/outbox.ts). A row is deleted once the runner has the job; until then a Redis outage
-- only delays it. Job ids are deterministic, so one job is queued once however often it is written
-- or dispatched.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  job_name text NOT NULL,
  job_id text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX outbox_job_idx ON outbox (job_name, job_id);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id);
