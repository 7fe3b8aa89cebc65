import { windowPartHead, type ClosedPart } from "@runhooks/rules";

const COMMA = 0x2c;
const TAIL = Buffer.from("]}");

/**
 * A closed part as its `runhooks.windows` message (the WindowPart contract). The runs are spliced in
 * as the exact bytes read from the runs topic: no re-serialisation, no re-encoding (a Buffer value is
 * copied once into the record by kafkajs, where a string would be measured and UTF-8 encoded), and
 * unknown fields pass through. `run_times` comes before `runs`, so the runs end the message.
 */
export function partMessageValue(p: ClosedPart): Buffer {
  const times = p.runs.map((r) => r.time).join(",");
  const head = Buffer.from(`${JSON.stringify(windowPartHead(p)).slice(0, -1)},"run_times":[${times}],"runs":[`);
  let size = head.length + TAIL.length + Math.max(0, p.runs.length - 1);
  for (const r of p.runs) size += r.json.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = head.copy(out, 0);
  for (const [i, r] of p.runs.entries()) {
    if (i > 0) out[at++] = COMMA;
    out.set(r.json, at);
    at += r.json.byteLength;
  }
  TAIL.copy(out, at);
  return out;
}

/**
 * The bytes a window keeps of a matched run: a copy, because the message value is a slice of the whole
 * fetch response, which a long window would otherwise keep alive.
 */
export function ownedRunBytes(value: Buffer): Uint8Array {
  return Buffer.from(value); // small copies come from Node's buffer pool
}
