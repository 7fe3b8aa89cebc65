-- The event-sourced rule store (DESIGN.md §3).
--
-- rule_events is the append-only history: one row per version of a rule, holding the full rule
-- (webhooks with their secrets included, so it never leaves Postgres unredacted). rules is the
-- projection of each rule's current version. outbox holds what must reach the rules topic; it is
-- written in the same transaction as the event, and the relay publishes it in id order.

CREATE TABLE rule_events (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  rule_id uuid NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  type text NOT NULL CHECK (type IN ('created', 'updated', 'enabled', 'disabled', 'deleted')),
  rule jsonb NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  -- The append time of this version's message on the rules topic; null until the relay published it.
  effective_from timestamptz,
  UNIQUE (rule_id, version)
);

-- A rule's id is global (it keys the rules topic) and bound to one tenant forever. A deleted rule keeps
-- its row (deleted = true) so that its versions stay monotonic if the id is used again.
CREATE TABLE rules (
  rule_id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  rule jsonb NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  effective_from timestamptz
);

CREATE INDEX rules_tenant_idx ON rules (tenant_id, created_at) WHERE NOT deleted;

CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  rule_id uuid NOT NULL,
  version integer NOT NULL,
  -- The RuleVersion message (matching part only, no webhooks); null is a tombstone (rule deleted).
  payload jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  -- Where the message landed on the rules topic, as the broker acknowledged it.
  kafka_offset bigint,
  log_append_time timestamptz,
  UNIQUE (rule_id, version),
  CHECK ((sent_at IS NULL) = (kafka_offset IS NULL))
);

CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;

-- Identifies this database's outbox on the rules topic (header runhooks-outbox-stream), so that a relay
-- recovering after a crash never mistakes another database's messages (a reset, a second
-- installation sharing the topic) for its own.
CREATE TABLE outbox_stream (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  stream_id uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO outbox_stream DEFAULT VALUES;

-- Wakes the relay (LISTEN runhooks_outbox) when a transaction that wrote to the outbox commits.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('runhooks_outbox', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
