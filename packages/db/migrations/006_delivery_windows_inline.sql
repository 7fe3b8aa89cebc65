-- Delivery throughput (DESIGN.md §5, issue #5), continued.
--
-- A window's webhook body (a few KB of JSON) is kept in its row as it is. Rows over ~2 KB used to be
-- compressed with pglz (the only method the embedded server has) — Postgres CPU on every window for
-- a few KB saved. Now only rows over ~8 KB are compressed or moved to the TOAST table.
ALTER TABLE delivery_windows SET (toast_tuple_target = 8160);
