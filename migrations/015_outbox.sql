-- Work that must follow a commit (answer a question, index a document) is written in the same
-- transaction as the change, and handed to the job runner by a relay in every server and worker
-- (core/jobs/outbox.ts). A row stays until its job has run: `dispatched_at` says the runner took it,
-- and a runner that loses it (Redis restarted without persistence) gets it again. Job ids are
-- deterministic, so one job is queued once however often it is written or dispatched.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  job_name text NOT NULL,
  job_id text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  dispatched_at timestamptz,
  -- When a relay next looks at the row: to dispatch it (again, after a failure), or once dispatched
  -- to ask the runner whether it still has the job.
  next_attempt_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX outbox_job_idx ON outbox (job_name, job_id);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id);
