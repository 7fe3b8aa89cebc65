import { sql, type Queryable } from "@databases/pg";
import type { RuleVersion } from "@runhooks/contracts";
import type { Database } from "./pool.js";

/** The channel a commit that wrote to the outbox notifies (a trigger does it; see 002_rules.sql). */
export const OUTBOX_CHANNEL = "runhooks_outbox";

export interface OutboxEntry {
  /** Outbox ids are bigints; published in this order. */
  readonly id: bigint;
  readonly ruleId: string;
  readonly version: number;
  /** Null: the rule was deleted (a tombstone). */
  readonly payload: RuleVersion | null;
}

/** Where an outbox entry landed on the rules topic. */
export interface OutboxReceipt {
  readonly id: bigint;
  readonly offset: bigint;
  /** The broker's LogAppendTime: the version's `effective_from`. */
  readonly appendTime: Date;
}

/** Identifies this database's outbox among the messages of the rules topic. */
export async function outboxStreamId(db: Queryable): Promise<string> {
  const rows = (await db.query(sql`SELECT stream_id FROM outbox_stream`)) as { stream_id: string }[];
  if (!rows[0]) throw new Error("outbox_stream has no row; was migration 002_rules applied?");
  return rows[0].stream_id;
}

/** The oldest unsent entries, in id order. */
export async function pendingOutbox(db: Queryable, limit: number): Promise<OutboxEntry[]> {
  const rows = (await db.query(sql`
    SELECT id, rule_id, version, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ${limit}`)) as {
    id: bigint;
    rule_id: string;
    version: number;
    payload: RuleVersion | null;
  }[];
  return rows.map((r) => ({ id: BigInt(r.id), ruleId: r.rule_id, version: r.version, payload: r.payload }));
}

export async function countPendingOutbox(db: Queryable): Promise<number> {
  const rows = (await db.query(sql`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL`)) as { n: number }[];
  return rows[0]?.n ?? 0;
}

/**
 * The highest rules-topic offset of an entry marked sent, or null if none was. Every message the relay
 * published but did not mark lies after it: the relay publishes a batch only once the one before is
 * marked.
 */
export async function lastSentOffset(db: Queryable): Promise<bigint | null> {
  const rows = (await db.query(sql`SELECT max(kafka_offset) AS o FROM outbox WHERE sent_at IS NOT NULL`)) as {
    o: bigint | string | null;
  }[];
  const o = rows[0]?.o;
  return o === null || o === undefined ? null : BigInt(o);
}

/**
 * Marks entries sent and records each version's `effective_from` (the append time) in `rule_events`
 * and, where it is still the current version, in `rules`. Entries already marked are left alone, so
 * marking twice is harmless.
 */
export async function markOutboxSent(db: Database, receipts: readonly OutboxReceipt[]): Promise<number> {
  if (receipts.length === 0) return 0;
  return db.tx(async (tx) => {
    let marked = 0;
    for (const r of receipts) {
      const rows = (await tx.query(sql`
        UPDATE outbox SET sent_at = now(), kafka_offset = ${r.offset.toString()}::bigint, log_append_time = ${r.appendTime}
        WHERE id = ${r.id.toString()}::bigint AND sent_at IS NULL
        RETURNING rule_id, version`)) as { rule_id: string; version: number }[];
      const entry = rows[0];
      if (!entry) continue;
      marked++;
      await tx.query(sql`
        UPDATE rule_events SET effective_from = ${r.appendTime}
        WHERE rule_id = ${entry.rule_id} AND version = ${entry.version}`);
      await tx.query(sql`
        UPDATE rules SET effective_from = ${r.appendTime}
        WHERE rule_id = ${entry.rule_id} AND version = ${entry.version}`);
    }
    return marked;
  });
}
