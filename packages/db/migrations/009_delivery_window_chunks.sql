-- Delivery (DESIGN.md §5): a window merged over every runs partition is sent in chunks of at most its
-- rule's max_runs runs. Each stored window is one chunk: its 0-based index among the window's chunks and
-- how many there are, sent as the `runhooks-chunk-index` and `runhooks-chunk-count` headers so that a
-- receiver can put a window back together.
ALTER TABLE delivery_windows
  ADD COLUMN chunk_index integer NOT NULL DEFAULT 0 CHECK (chunk_index >= 0),
  ADD COLUMN chunk_count integer NOT NULL DEFAULT 1 CHECK (chunk_count > chunk_index);
