-- Least privilege (DESIGN.md §7, "Database roles"): a group role per service holding only the grants
-- its code needs. The installer creates a login role per service and makes it a member
-- (`GRANT runhooks_ingest TO ...`); `npm start` and the test stack do so with generated passwords.
-- Roles belong to the server, not the database: created when missing, so several databases on one
-- server share them; the grants below are this database's.
--
--   runhooks_ingest    API keys and tenants (read), projects, ingest_pending. Never rules, their
--                      history or the outbox: the internet-facing service cannot read a secret, even
--                      sealed.
--   runhooks_delivery  the delivery tables, webhook health, the webhooks of rule versions (rule_events,
--                      read) and which version of a rule is current (rules, read). The backfill
--                      service runs under it too: it stores windows and deliveries, and its jobs.
--   runhooks_api       rules, history, outbox, tenants, keys, rule errors, projects, and the delivery
--                      tables (queries, redelivery, replay).
--   runhooks_reader    Grafana: deliveries and attempts (URLs redacted, errors scrubbed) and a view of
--                      windows without their body. No rule, no key, no run.
-- The evaluator uses no database.
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['runhooks_ingest', 'runhooks_delivery', 'runhooks_api', 'runhooks_reader'] LOOP
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database's migration created it at the same moment
    END;
  END LOOP;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO runhooks_ingest, runhooks_delivery, runhooks_api, runhooks_reader', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO runhooks_ingest, runhooks_delivery, runhooks_api, runhooks_reader;

-- Every service reads which migrations are applied (a service started with migrations on checks them).
GRANT SELECT ON schema_migrations TO runhooks_ingest, runhooks_delivery, runhooks_api;

GRANT SELECT ON tenants, api_keys TO runhooks_ingest;
GRANT SELECT, INSERT, UPDATE, DELETE ON projects TO runhooks_ingest;
GRANT SELECT, INSERT, UPDATE, DELETE ON ingest_pending TO runhooks_ingest;

GRANT SELECT ON rule_events, rules TO runhooks_delivery;
GRANT SELECT, INSERT, UPDATE ON webhook_health, backfills TO runhooks_delivery;
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery_windows, deliveries, delivery_attempts TO runhooks_delivery;
GRANT USAGE ON SEQUENCE delivery_attempts_id_seq TO runhooks_delivery;

GRANT SELECT, INSERT, UPDATE ON tenants, api_keys, rules, rule_events, outbox, projects TO runhooks_api;
GRANT SELECT ON outbox_stream TO runhooks_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON rule_errors TO runhooks_api;
GRANT SELECT, INSERT, UPDATE ON webhook_health, backfills TO runhooks_api;
GRANT SELECT, INSERT, UPDATE ON delivery_windows, deliveries, delivery_attempts TO runhooks_api;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO runhooks_api;

CREATE VIEW delivery_windows_meta AS
  SELECT window_id, tenant_id, rule_id, rule_version, start_time, end_time, run_count, webhook_count,
         chunk_index, chunk_count, received_at, payload IS NOT NULL AS has_body
  FROM delivery_windows;
GRANT SELECT ON deliveries, delivery_attempts, delivery_windows_meta TO runhooks_reader;
