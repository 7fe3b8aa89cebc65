import type { Admin } from "kafkajs";
import { sql, type Database } from "@runhooks/db";
import type { ReceivedRequest } from "./receiver.js";

/** How far from done the pipeline is; all zero when drained. */
export interface DrainState {
  /** Runs-topic messages the evaluator has not committed: unread, or held by a window still open. */
  readonly evaluatorLag: number;
  /** Windows-topic messages delivery has not stored. */
  readonly deliveryLag: number;
  /** Deliveries of the demo's rules still pending or in flight. */
  readonly openDeliveries: number;
  readonly finishedDeliveries: number;
  /** Succeeded deliveries (Postgres) the receiver has no request for — zero once consistent. */
  readonly unseenSucceeded: number;
}

export function isDrained(s: DrainState): boolean {
  return s.evaluatorLag === 0 && s.deliveryLag === 0 && s.openDeliveries === 0 && s.unseenSucceeded === 0;
}

async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  for (const end of ends) {
    const high = Number(end.high);
    const low = Number(end.low);
    const done = at.get(end.partition) ?? -1;
    lag += Math.max(0, high - (done < 0 ? low : done));
  }
  return lag;
}

export interface DrainProbe {
  readonly admin: Admin;
  readonly db: Database;
  readonly runsTopic: string;
  readonly windowsTopic: string;
  readonly evaluatorGroup: string;
  readonly deliveryGroup: string;
  readonly ruleIds: readonly string[];
  readonly received: readonly ReceivedRequest[];
}

/**
 * Where the pipeline stands, checked downstream-last so that "all zero" cannot be a race: the evaluator
 * commits a runs offset only past windows it has published and never past the first run of a window
 * still open, so zero lag there means every window exists on the windows topic; delivery commits only
 * after storing a window's deliveries, so zero lag there means Postgres has them all; then Postgres
 * says whether every delivery finished, and the receiver must have got every one that succeeded.
 */
export async function drainState(p: DrainProbe): Promise<DrainState> {
  const evaluatorLag = await groupLag(p.admin, p.evaluatorGroup, p.runsTopic);
  const deliveryLag = await groupLag(p.admin, p.deliveryGroup, p.windowsTopic);
  const ids = [...p.ruleIds];
  const rows = (await p.db.query(sql`
    SELECT id, status FROM deliveries WHERE rule_id = ANY(${ids}::uuid[])`)) as { id: string; status: string }[];
  const seen = new Set(p.received.filter((r) => r.verified).map((r) => r.deliveryId));
  let open = 0;
  let finished = 0;
  let unseen = 0;
  for (const r of rows) {
    if (r.status === "pending" || r.status === "in_flight") open++;
    else finished++;
    if (r.status === "succeeded" && !seen.has(r.id)) unseen++;
  }
  return { evaluatorLag, deliveryLag, openDeliveries: open, finishedDeliveries: finished, unseenSucceeded: unseen };
}
