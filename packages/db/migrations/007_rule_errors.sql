-- Rule errors (DESIGN.md §3): runs a rule version's filter could not judge. The evaluator publishes
-- per rule version per flush one record — a count and its first error as the sample — on the
-- rule-errors topic; the API process stores them here for GET /rules/:id/errors. A record re-published
-- after a crash has the same (rule_id, rule_version, run_id) and is stored once.

CREATE TABLE rule_errors (
  rule_id uuid NOT NULL,
  rule_version integer NOT NULL CHECK (rule_version > 0),
  -- The sample: the first run of the flush the version failed on, and its log time.
  run_id uuid NOT NULL,
  tenant_id uuid NOT NULL,
  log_time timestamptz NOT NULL,
  error text NOT NULL,
  -- How many runs of that flush the version failed on.
  count integer NOT NULL CHECK (count > 0),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, rule_version, run_id)
);

CREATE INDEX rule_errors_latest_idx ON rule_errors (rule_id, log_time DESC);
