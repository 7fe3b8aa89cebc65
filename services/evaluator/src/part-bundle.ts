import { windowPartHead, type ClosedPart } from "@runhooks/rules";

/**
 * At most this many bytes in a bundle (WindowPartBundle), as written: one Kafka message, under the
 * broker's 1 MiB even uncompressed, and within the send budget per partition (send-chunks.ts), which
 * counts it compressed. A part alone may go over it only by what a single part message would (its runs
 * are at most MAX_WINDOW_BYTES): such a part makes a bundle of its own.
 */
export const BUNDLE_BYTES = 900 * 1024;

/** A closed part to publish, with the trace context of its publish span when the evaluator traces. */
export interface BundlePart {
  readonly part: ClosedPart;
  readonly traceparent: string | undefined;
}

/**
 * A bundle as its message value's slices: its own head (the bundle's members, its parts' entries and
 * its run times, then `"runs":[`), then each run's bytes once — the Uint8Array the fold read, shared
 * with every other bundle holding the run — with commas between them and `]}` at the end.
 */
export interface BundleSlices {
  readonly head: Buffer;
  readonly shared: Uint8Array[];
  /** How many parts it bundles. */
  readonly parts: number;
  /** head + shared, in bytes. */
  readonly bytes: number;
}

const COMMA = Buffer.from(",");
const TAIL = Buffer.from("]}");
/** `{"schema_version":1,"runs_partition":`, `,"parts":[`, `],"run_times":[`, `],"runs":[`, `]}`, a partition number. */
const FIXED_BYTES = 80;

/** A bundle being filled. */
interface Filling {
  readonly entries: string[];
  readonly runs: Uint8Array[];
  readonly times: number[];
  /** Index in `runs` of a run's bytes last carried (a run is carried once per time it was read at). */
  readonly index: Map<Uint8Array, number>;
  bytes: number;
}

const filling = (): Filling => ({ entries: [], runs: [], times: [], index: new Map(), bytes: FIXED_BYTES });

/** Decimal digits of a non-negative integer (an index, a stream time in ms). */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** An entry's text but its run refs: the part's head and trace context, whichever bundle it goes in. */
interface EntryText {
  readonly head: string;
  readonly trace: string;
  /** Bytes of the entry but its refs: head, trace, `,"run_refs":[`, `]` and `}`. */
  readonly bytes: number;
}

const REFS_OPEN = `,"run_refs":[`;

function entryText(p: BundlePart): EntryText {
  const head = JSON.stringify(windowPartHead(p.part)).slice(0, -1);
  const trace = p.traceparent === undefined ? "" : `,"traceparent":${JSON.stringify(p.traceparent)}`;
  return { head, trace, bytes: Buffer.byteLength(head) + Buffer.byteLength(trace) + REFS_OPEN.length + 2 };
}

/** The run at `i` of `p` is carried by `f` already (its bytes, at its time): its index there, else -1. */
function carried(f: Filling, p: BundlePart, i: number): number {
  const r = p.part.runs[i]!;
  const at = f.index.get(r.json);
  return at !== undefined && f.times[at] === r.time ? at : -1;
}

/**
 * Bytes `p` adds to `f` (its entry, its separating comma, and each run `f` does not carry yet with its
 * time and separators); `f` unchanged. A part's runs are distinct objects (a window holds a run once).
 */
function bytesIn(f: Filling, p: BundlePart, text: EntryText): number {
  const runs = p.part.runs;
  let next = f.runs.length;
  let bytes = text.bytes + 1;
  for (let i = 0; i < runs.length; i++) {
    let at = carried(f, p, i);
    if (at < 0) {
      at = next++;
      bytes += runs[i]!.json.byteLength + 2 + digits(runs[i]!.time);
    }
    bytes += digits(at) + (i > 0 ? 1 : 0);
  }
  return bytes;
}

/** Puts `p` in `f`: the runs it does not carry yet, then the entry naming them, as `bytesIn` counted. */
function put(f: Filling, p: BundlePart, text: EntryText, bytes: number): void {
  const runs = p.part.runs;
  let refs = "";
  for (let i = 0; i < runs.length; i++) {
    let at = carried(f, p, i);
    if (at < 0) {
      const r = runs[i]!;
      at = f.runs.length;
      f.runs.push(r.json);
      f.times.push(r.time);
      f.index.set(r.json, at);
    }
    refs = i === 0 ? `${at}` : `${refs},${at}`;
  }
  f.entries.push(`${text.head}${REFS_OPEN}${refs}]${text.trace}}`);
  f.bytes += bytes;
}

function slicesOf(f: Filling, runsPartition: number): BundleSlices {
  const head = Buffer.from(
    `{"schema_version":1,"runs_partition":${runsPartition},"parts":[${f.entries.join(",")}],` +
      `"run_times":[${f.times.join(",")}],"runs":[`,
  );
  const shared: Uint8Array[] = [];
  let bytes = head.length + TAIL.length;
  for (let i = 0; i < f.runs.length; i++) {
    const r = f.runs[i]!;
    if (i > 0) shared.push(COMMA);
    shared.push(r);
    bytes += r.byteLength + (i > 0 ? 1 : 0);
  }
  shared.push(TAIL);
  return { head, shared, parts: f.entries.length, bytes };
}

/**
 * The parts one flush of one runs partition publishes to one windows partition, as bundles of at most
 * `maxBytes` (but one part), in order: parts go into a bundle in the order given until the next would
 * take it past `maxBytes`, which then starts the next bundle. Each run is carried once per bundle.
 * Pure; the parts must all be of `runsPartition`.
 */
export function bundleParts(
  parts: readonly BundlePart[],
  runsPartition: number,
  maxBytes = BUNDLE_BYTES,
): BundleSlices[] {
  const out: BundleSlices[] = [];
  let f = filling();
  for (const p of parts) {
    const text = entryText(p);
    let bytes = bytesIn(f, p, text);
    if (f.entries.length > 0 && f.bytes + bytes > maxBytes) {
      out.push(slicesOf(f, runsPartition));
      f = filling();
      // Only the refs differ in a new bundle: the head and trace context are the same text.
      bytes = bytesIn(f, p, text);
    }
    put(f, p, text, bytes);
  }
  if (f.entries.length > 0) out.push(slicesOf(f, runsPartition));
  return out;
}
