-- Grafana reads the delivery tables with a role of its own that can read nothing else: rule_events
-- and the rules projection hold webhook secrets, so they are not granted. Run after the migrations.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    CREATE ROLE grafana_reader LOGIN PASSWORD 'grafana_reader';
  END IF;
END
$$;
GRANT CONNECT ON DATABASE runhooks TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON deliveries, delivery_attempts TO grafana_reader;
