import { sql, type Queryable } from "@databases/pg";

/**
 * Retention of what delivery stores (DESIGN.md §5, "Retention"). Each call deletes at most `limit`
 * rows picked with SKIP LOCKED, so no statement holds many locks or runs long, and instances may run
 * it at once. Nothing unfinished is touched: a body goes only when every delivery of its window is
 * finished, a delivery only when it is finished and every attempt of it reached the attempts topic.
 */

/** Drops the bodies of windows received before `before` whose deliveries are all finished. */
export async function deleteWindowBodies(db: Queryable, before: Date, limit: number): Promise<number> {
  const rows = (await db.query(sql`
    WITH expired AS (
      SELECT w.window_id FROM delivery_windows w
      WHERE w.received_at < ${before} AND w.payload IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.window_id = w.window_id AND d.status IN ('pending', 'in_flight'))
      LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    UPDATE delivery_windows SET payload = NULL WHERE window_id IN (SELECT window_id FROM expired)
    RETURNING window_id`)) as unknown[];
  return rows.length;
}

/** Deletes deliveries finished (sent, given up, skipped or cancelled) before `before`, with their attempts. */
export async function deleteDeliveryRecords(db: Queryable, before: Date, limit: number): Promise<number> {
  const rows = (await db.query(sql`
    WITH expired AS (
      SELECT d.id FROM deliveries d
      WHERE d.status IN ('succeeded', 'failed', 'skipped', 'cancelled')
        AND coalesce(d.completed_at, d.updated_at) < ${before}
        AND NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id AND a.published_at IS NULL)
      LIMIT ${limit} FOR UPDATE SKIP LOCKED),
    attempts AS (DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM expired))
    DELETE FROM deliveries WHERE id IN (SELECT id FROM expired)
    RETURNING id`)) as unknown[];
  return rows.length;
}

/** Deletes windows received before `before` that no delivery refers to any more. */
export async function deleteEmptyWindows(db: Queryable, before: Date, limit: number): Promise<number> {
  const rows = (await db.query(sql`
    WITH expired AS (
      SELECT w.window_id FROM delivery_windows w
      WHERE w.received_at < ${before}
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.window_id = w.window_id)
      LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    DELETE FROM delivery_windows WHERE window_id IN (SELECT window_id FROM expired)
    RETURNING window_id`)) as unknown[];
  return rows.length;
}
