-- Backfills (DESIGN.md §4 "Backfills"): one rule version applied to a past range of the runs topic.
--
-- A backfill is a job row: its range as runs-topic offsets per partition (fixed when it is created, so
-- the total and the windows never depend on when it runs), its state and progress, a lease with a
-- fencing token (one process owns it; a write under a stale token changes nothing), and a checkpoint
-- from which a restarted process produces the same windows.
CREATE TABLE backfills (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  rule_id uuid NOT NULL,
  rule_version integer NOT NULL,
  from_time timestamptz NOT NULL,
  -- Null until known: the moment the rule version came into force (its effective_from), unless given.
  to_time timestamptz,
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
  -- {"<partition>": [start, end)} offsets of the runs topic; null until the owner resolved them.
  offsets jsonb,
  runs_total bigint NOT NULL DEFAULT 0,
  runs_read bigint NOT NULL DEFAULT 0,
  windows_sent integer NOT NULL DEFAULT 0,
  -- {"v":1,"m":M}: every window ending at or before M is stored (see the backfill service).
  checkpoint jsonb,
  owner text,
  fencing_token bigint NOT NULL DEFAULT 0,
  lease_until timestamptz,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CHECK (to_time IS NULL OR to_time > from_time)
);

-- At most one backfill of a rule runs (or waits to) at a time.
CREATE UNIQUE INDEX backfills_one_active_idx ON backfills (rule_id) WHERE state IN ('pending', 'running');
CREATE INDEX backfills_rule_idx ON backfills (tenant_id, rule_id, created_at DESC);
CREATE INDEX backfills_claim_idx ON backfills (created_at) WHERE state IN ('pending', 'running');

-- A window a backfill sent names it: the `runhooks-backfill` header and the body's `backfill_id`.
ALTER TABLE delivery_windows ADD COLUMN backfill_id uuid;
