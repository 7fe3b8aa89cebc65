import { joinSlices, slicedValue, slicedValuesSupported } from "@runhooks/kafka";
import { windowPartHead, type ClosedPart } from "@runhooks/rules";

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

/**
 * The bytes a restored window keeps of a run its trace snapshot named: a copy, because the message
 * value is a slice of the whole fetch response (runs joined while folding go to held-runs.ts).
 */
export function ownedRunBytes(value: Buffer): Uint8Array {
  return Buffer.from(value); // small copies come from Node's buffer pool
}
