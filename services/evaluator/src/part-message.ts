import { joinSlices, slicedValue, slicedValuesSupported } from "@runhooks/kafka";
import { windowPartHead, type ClosedPart } from "@runhooks/rules";
import type { Message } from "kafkajs";
import { KIND_HEADER, PART, PARTS, PART_ID_HEADER } from "./headers.js";
import { bundleParts, type BundlePart } from "./part-bundle.js";

const COMMA = Buffer.from(",");
const TAIL = Buffer.from("]}");

/**
 * A closed part as its `runhooks.windows` message (the WindowPart contract). The runs are spliced in
 * as the exact bytes read from the runs topic: no re-serialisation, no re-encoding, and unknown fields
 * pass through. `run_times` comes before `runs`, so the runs end the message.
 *
 * The value is sliced (packages/kafka sliced-value.ts): the part's own head, then each run's bytes —
 * the same Uint8Array in every part the run is in — with the commas and the closing bracket between
 * them. A run in a hundred windows is neither copied into a hundred values nor compressed a hundred
 * times: each record batch holds its Snappy block, computed once. Without sliced values (a kafkajs
 * whose encoder the lean encoder does not know) the value is put together here.
 */
export function partMessageValue(p: ClosedPart): Buffer {
  const times = p.runs.map((r) => r.time).join(",");
  const head = Buffer.from(`${JSON.stringify(windowPartHead(p)).slice(0, -1)},"run_times":[${times}],"runs":[`);
  const shared: Uint8Array[] = [];
  for (let i = 0; i < p.runs.length; i++) {
    if (i > 0) shared.push(COMMA);
    shared.push(p.runs[i]!.json);
  }
  shared.push(TAIL);
  return slicedValuesSupported() ? slicedValue(head, shared) : joinSlices({ head, shared });
}

/** A closed part waiting for its cut, with the windows partition of its rule (undefined: not yet known). */
export interface PendingPart extends BundlePart {
  readonly windowsPartition: number | undefined;
}

/** Bytes a part adds to what a cut holds (its runs; what CUT_BYTES bounds). */
export function pendingBytes(p: ClosedPart): number {
  let bytes = 0;
  for (const r of p.runs) bytes += r.json.byteLength;
  return bytes;
}

/**
 * A cut's parts as `runhooks.windows` messages: per windows partition, in their order, bundles
 * (part-bundle.ts; `runhooks-kind: parts`, no key, the partition explicit), so a run in many windows
 * of one partition is carried once. A part whose windows partition is not known yet (the topic's
 * metadata could not be read) goes as a single part message keyed by its rule id, which kafkajs
 * partitions the same way; and so does every part when `bundles` is false (RUNHOOKS_WINDOWS_BUNDLES,
 * for deliveries that do not read bundles).
 */
export function windowMessages(parts: readonly PendingPart[], bundles = true): Message[] {
  const out: Message[] = [];
  const byPartition = new Map<number, PendingPart[]>();
  for (const p of parts) {
    if (p.windowsPartition === undefined || !bundles) {
      const headers: Record<string, string> = { [KIND_HEADER]: PART, [PART_ID_HEADER]: p.part.partId };
      if (p.traceparent !== undefined) headers.traceparent = p.traceparent;
      out.push({ key: p.part.ruleId, value: partMessageValue(p.part), headers });
      continue;
    }
    let list = byPartition.get(p.windowsPartition);
    if (list === undefined) byPartition.set(p.windowsPartition, (list = []));
    list.push(p);
  }
  for (const [partition, list] of byPartition) {
    for (const b of bundleParts(list, list[0]!.part.partition)) {
      const value = slicedValuesSupported() ? slicedValue(b.head, b.shared) : joinSlices(b);
      out.push({ partition, value, headers: { [KIND_HEADER]: PARTS } });
    }
  }
  return out;
}

/**
 * The bytes a restored window keeps of a run its trace snapshot named: a copy, because the message
 * value is a slice of the whole fetch response (runs joined while folding go to held-runs.ts).
 */
export function ownedRunBytes(value: Buffer): Uint8Array {
  return Buffer.from(value); // small copies come from Node's buffer pool
}
