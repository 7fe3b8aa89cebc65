import type { MergedChunk } from "@runhooks/rules";

const COMMA = 0x2c;
const TAIL = Buffer.from("]}");

/**
 * A backfill chunk's webhook body: the live window's fields (`rule_id`, `start_time`, `end_time`,
 * `runs`, the runs spliced in as the exact bytes the log held) and `backfill_id`, the backfill that
 * made it. Serialised once; the bytes are what the signature covers.
 */
export function backfillBody(c: MergedChunk, backfillId: string): Buffer {
  const head = Buffer.from(
    `${JSON.stringify({
      rule_id: c.ruleId,
      start_time: new Date(c.startMs).toISOString(),
      end_time: new Date(c.endMs).toISOString(),
      backfill_id: backfillId,
    }).slice(0, -1)},"runs":[`,
  );
  let size = head.length + TAIL.length + Math.max(0, c.runs.length - 1);
  for (const r of c.runs) size += r.json.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = head.copy(out, 0);
  for (const [i, r] of c.runs.entries()) {
    if (i > 0) out[at++] = COMMA;
    out.set(r.json, at);
    at += r.json.byteLength;
  }
  TAIL.copy(out, at);
  return out;
}
