import { matchWindowHead, type ClosedWindow } from "@runhooks/rules";

const COMMA = 0x2c;
const TAIL = Buffer.from("]}");

/**
 * A closed window as its `runhooks.windows` message (the MatchWindow contract). The runs are spliced
 * in as the exact bytes read from the runs topic: no re-serialisation, no re-encoding (a Buffer value
 * is copied once into the record by kafkajs, where a string would be measured and UTF-8 encoded), and
 * unknown fields pass through.
 */
export function windowMessageValue(w: ClosedWindow): Buffer {
  const head = Buffer.from(`${JSON.stringify(matchWindowHead(w)).slice(0, -1)},"runs":[`);
  let size = head.length + TAIL.length + Math.max(0, w.runs.length - 1);
  for (const r of w.runs) size += r.json.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = head.copy(out, 0);
  for (const [i, r] of w.runs.entries()) {
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
