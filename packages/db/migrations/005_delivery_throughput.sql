-- Delivery throughput (DESIGN.md §5, issue #5): fewer writes per delivery on the hot tables.
-- (005, not 004: the ingest branch takes 004.)
--
-- A delivery's id is UUIDv5(window_id, webhook_id), so its primary key already makes (window, webhook)
-- unique: the second unique index was one more index entry per row version, for nothing.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_window_id_webhook_id_key;
-- The foreign keys cost a trigger and a row lock on the parent — a write to its page — for every
-- delivery and every attempt inserted. Both hold by construction: a window's deliveries are inserted
-- in the statement that inserts the window, an attempt only by the worker holding its delivery, and
-- nothing deletes windows or deliveries.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_window_id_fkey;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;
-- Claims are fair across origins (claimDeliveries): a skip scan finds the origins with pending
-- deliveries, then each origin's oldest due ones are taken. Replaces the single queue order.
DROP INDEX deliveries_due_idx;
CREATE INDEX deliveries_pending_origin_idx ON deliveries (origin, next_attempt_at) WHERE status = 'pending';
-- Every attempt has an outcome (AttemptOutcome): `interrupted` instead of null for an attempt whose
-- worker stopped during it; `invalid_response` and `request_failed` for errors that are not a failure to
-- connect (they used to be recorded as connect_error, and retried).
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check;
UPDATE delivery_attempts SET outcome = CASE WHEN error LIKE 'interrupted%' THEN 'interrupted' ELSE 'request_failed' END
WHERE outcome IS NULL;
ALTER TABLE delivery_attempts ALTER COLUMN outcome SET NOT NULL;
ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_outcome_check CHECK (outcome IN ('success', 'http_3xx', 'http_4xx',
  'http_5xx', 'timeout', 'connect_error', 'ssrf_blocked', 'response_too_large', 'invalid_response', 'request_failed', 'interrupted'));
