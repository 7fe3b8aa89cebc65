-- Delivery (DESIGN.md §5): the windows to deliver, one delivery per (window, webhook) worked as a queue,
-- and every attempt.
--
-- delivery_windows holds each window's webhook body once, exactly as POSTed (text, not jsonb: the bytes
-- are what the signature covers). deliveries is the work queue: claimed with FOR UPDATE SKIP LOCKED,
-- leased while in flight; a lease that expires (the worker died) puts the delivery back in the queue.

CREATE TABLE delivery_windows (
  window_id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  rule_id uuid NOT NULL,
  rule_version integer NOT NULL,
  start_time timestamptz NOT NULL,
  end_time timestamptz NOT NULL,
  run_count integer NOT NULL,
  -- How many deliveries the window became: 0 when its rule version has no webhooks (or is unknown).
  webhook_count integer NOT NULL,
  -- {"rule_id","start_time","end_time","runs"}; null when there is nothing to deliver it to.
  payload text,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX delivery_windows_rule_idx ON delivery_windows (tenant_id, rule_id, start_time);

CREATE TABLE deliveries (
  id uuid PRIMARY KEY,
  window_id uuid NOT NULL REFERENCES delivery_windows (window_id),
  webhook_id uuid NOT NULL,
  tenant_id uuid NOT NULL,
  rule_id uuid NOT NULL,
  rule_version integer NOT NULL,
  -- The webhook URL redacted (secret=***): what may be shown. The real one stays in rule_events.
  url text NOT NULL,
  -- scheme://host:port of the URL: the unit of connection pools and per-origin concurrency.
  origin text NOT NULL,
  -- W3C trace id every attempt's traceparent belongs to.
  trace_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_flight', 'succeeded', 'failed')),
  -- Attempts made so far, of every round; the in-flight attempt's number while in_flight.
  attempts integer NOT NULL DEFAULT 0,
  -- Attempts of the current round (reset by a manual redelivery): what the retry policy counts.
  round_attempts integer NOT NULL DEFAULT 0,
  next_trigger text NOT NULL DEFAULT 'scheduled' CHECK (next_trigger IN ('scheduled', 'manual')),
  next_attempt_at timestamptz,
  -- While in_flight: the trigger of the attempt, when it was claimed, and until when the claim holds.
  attempt_trigger text CHECK (attempt_trigger IN ('scheduled', 'manual')),
  claimed_at timestamptz,
  lease_until timestamptz,
  claimed_by text,
  last_outcome text,
  last_status_code integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  -- A window re-read from Kafka (a replay, a crash before the commit) creates nothing new.
  UNIQUE (window_id, webhook_id),
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
  CHECK ((status = 'in_flight') = (lease_until IS NOT NULL))
);

-- The queue: due deliveries in order; and leases to reap.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_lease_idx ON deliveries (lease_until) WHERE status = 'in_flight';
-- The API: a tenant's deliveries, newest first, by rule or not.
CREATE INDEX deliveries_tenant_idx ON deliveries (tenant_id, created_at DESC);
CREATE INDEX deliveries_rule_idx ON deliveries (tenant_id, rule_id, created_at DESC);

CREATE TABLE delivery_attempts (
  id bigserial PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES deliveries (id),
  attempt integer NOT NULL CHECK (attempt > 0),
  trigger text NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
  started_at timestamptz NOT NULL,
  duration_ms double precision NOT NULL CHECK (duration_ms >= 0),
  -- success, http_3xx, http_4xx, http_5xx, timeout, connect_error, ssrf_blocked, response_too_large;
  -- null: interrupted — the worker stopped during the attempt, so whether the endpoint received it is
  -- unknown (error says so). Interrupted attempts are not published to the attempts topic.
  outcome text CHECK (outcome IN ('success', 'http_3xx', 'http_4xx', 'http_5xx', 'timeout', 'connect_error', 'ssrf_blocked', 'response_too_large')),
  status_code integer,
  -- Redacted: never a secret (error texts and excerpts are scrubbed with the webhook's secrets).
  error text,
  response_excerpt text,
  url text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- When the attempt's message reached the attempts topic; null until then (a sweeper retries).
  published_at timestamptz,
  UNIQUE (delivery_id, attempt)
);

CREATE INDEX delivery_attempts_unpublished_idx ON delivery_attempts (id) WHERE published_at IS NULL;
