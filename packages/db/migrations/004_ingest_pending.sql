-- Runs the ingest service received incomplete (created without end_time, or patched before their
-- create arrived), kept until the rest arrives so the merged run reaches the runs topic once.
-- Self-contained: nothing else reads or writes this table.
CREATE TABLE ingest_pending (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  run_id uuid NOT NULL,
  -- The create as received (normalised, tenant set); null while only patches have arrived.
  created jsonb,
  -- The patches received so far, merged in arrival order; null when there were none.
  updates jsonb,
  -- Set once the merged run was acknowledged by Kafka: later copies of the run are duplicates.
  produced_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, run_id)
);

-- The expiry sweep deletes by age.
CREATE INDEX ingest_pending_updated_at_idx ON ingest_pending (updated_at);
