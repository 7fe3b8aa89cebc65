-- The rule-versions-per-minute quota (packages/db/src/rule-quotas.ts) reads a tenant's newest
-- versions on every rule write.
CREATE INDEX rule_events_tenant_time_idx ON rule_events (tenant_id, occurred_at);
