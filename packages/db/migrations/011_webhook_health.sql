-- Operating webhooks (DESIGN.md §5): each webhook's health, auto-disable, and deliveries that were not
-- sent because their webhook was disabled (skipped) or is no longer in the rule's current version
-- (cancelled). Both end a delivery without an attempt; last_outcome says why. Skipped and failed
-- deliveries can be recovered (queued again) by POST /deliveries/recover.

ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('pending', 'in_flight', 'succeeded', 'failed', 'skipped', 'cancelled'));

-- Recovery reads a tenant's failed and skipped deliveries by creation time.
CREATE INDEX deliveries_recoverable_idx ON deliveries (tenant_id, created_at) WHERE status IN ('failed', 'skipped');

-- One row per webhook that has finished a delivery (a webhook without a row is healthy). A webhook's id
-- is stable across versions of its rule (webhook-resolution.ts), so its health outlives edits.
CREATE TABLE webhook_health (
  rule_id uuid NOT NULL,
  webhook_id uuid NOT NULL,
  tenant_id uuid NOT NULL,
  -- healthy: its last delivery succeeded; failing: one or more failed in a row; disabled: nothing is sent
  -- until it is enabled again (POST /rules/:id/webhooks/:webhook_id/enable).
  state text NOT NULL DEFAULT 'healthy' CHECK (state IN ('healthy', 'failing', 'disabled')),
  -- Deliveries that ended failed in a row (attempts do not count: a delivery is one window for it).
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  -- When the first delivery of the current run of failures ended; null while healthy.
  failing_since timestamptz,
  last_success_at timestamptz,
  last_failure_at timestamptz,
  disabled_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, webhook_id)
);

-- Storing a window looks up whether each of its webhooks is disabled: a small index of those only.
CREATE INDEX webhook_health_disabled_idx ON webhook_health (rule_id, webhook_id) WHERE state = 'disabled';
