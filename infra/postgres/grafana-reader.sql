-- Grafana's login: a member of runhooks_reader (migration 015), which may read deliveries, attempts
-- and windows without their body, and nothing else (no rule, no key, no run). Run after the migrations.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    CREATE ROLE grafana_reader LOGIN PASSWORD 'grafana_reader';
  END IF;
END
$$;
GRANT runhooks_reader TO grafana_reader;
