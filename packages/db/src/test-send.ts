import { randomBytes, randomUUID } from "node:crypto";
import { sql, type Queryable } from "@databases/pg";
import { storeWindows } from "./delivery-store.js";
import { getDelivery } from "./delivery-queries.js";
import type { AttemptRecord } from "./delivery-attempts.js";

export interface TestSendInput {
  readonly tenantId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly webhookId: string;
  /** Redacted, as deliveries store it. */
  readonly url: string;
  readonly origin: string;
  /** The sample window's webhook body. */
  readonly payload: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly runCount: number;
}

/**
 * Queues a sample window for one webhook, due now, for the delivery service to send like any other
 * (signed, through the SSRF guard, recorded); returns its delivery id. Its window id is fresh, so it
 * never dedupes against a real window.
 */
export async function queueTestSend(db: Queryable, t: TestSendInput): Promise<string> {
  const windowId = randomUUID();
  const id = randomUUID();
  await storeWindows(
    db,
    [
      {
        windowId,
        tenantId: t.tenantId,
        ruleId: t.ruleId,
        ruleVersion: t.ruleVersion,
        startTime: t.startTime,
        endTime: t.endTime,
        runCount: t.runCount,
        chunkIndex: 0,
        chunkCount: 1,
        webhookCount: 1,
        payload: Buffer.from(t.payload),
      },
    ],
    [
      {
        id,
        windowId,
        webhookId: t.webhookId,
        tenantId: t.tenantId,
        ruleId: t.ruleId,
        ruleVersion: t.ruleVersion,
        url: t.url,
        origin: t.origin,
        traceId: randomBytes(16).toString("hex"),
        claimed: false,
      },
    ],
  );
  return id;
}

/** The first attempt of a test send once recorded, else undefined. */
export async function testSendAttempt(
  db: Queryable,
  tenantId: string,
  deliveryId: string,
): Promise<AttemptRecord | undefined> {
  const found = await getDelivery(db, tenantId, deliveryId);
  return found?.attempts.find((a) => a.outcome !== "interrupted");
}

/**
 * A test send makes one attempt: a retry its policy scheduled is cancelled, and so is a failed one, so
 * that recovering the webhook's failures never sends the sample again (its attempt keeps the outcome).
 */
export async function endTestSend(db: Queryable, deliveryId: string): Promise<void> {
  await db.query(sql`
    UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, last_outcome = 'test_send', updated_at = now(),
      completed_at = now()
    WHERE id = ${deliveryId} AND status IN ('pending', 'failed')`);
}
