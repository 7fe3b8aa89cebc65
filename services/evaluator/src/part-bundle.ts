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
  /** Index in `runs` of a run's bytes (with its time: a run is carried once per time it was read at). */
  readonly index: Map<Uint8Array, number>;
  bytes: number;
}

const filling = (): Filling => ({ entries: [], runs: [], times: [], index: new Map(), bytes: FIXED_BYTES });

const digits = (n: number) => String(n).length;

/**
 * An entry's text but its run refs: the part's head and trace context, the same in whichever bundle
 * it goes (computed once per part, a cut notwithstanding).
 */
function entryText(p: BundlePart): { readonly head: string; readonly trace: string } {
  const head = JSON.stringify(windowPartHead(p.part)).slice(0, -1);
  const trace = p.traceparent === undefined ? "" : `,"traceparent":${JSON.stringify(p.traceparent)}`;
  return { head, trace };
}

/** The entry of `p` and the runs it adds, were it put in `f` (which this does not change). */
function entryIn(
  f: Filling,
  p: BundlePart,
  text: { readonly head: string; readonly trace: string },
): { entry: string; added: number[]; bytes: number } {
  const runs = p.part.runs;
  const added: number[] = [];
  /** Runs this part adds, by their bytes: a run twice in one part is carried once too. */
  let adding: Map<Uint8Array, number> | undefined;
  let refs = "";
  let bytes = 0;
  // Per run in a part, the hot loop of bundling: indexed, and the refs written as text at once.
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i]!;
    let at = f.index.get(r.json);
    if (at === undefined || f.times[at] !== r.time) {
      at = adding?.get(r.json);
      if (at === undefined || runs[added[at - f.runs.length]!]!.time !== r.time) {
        at = f.runs.length + added.length;
        added.push(i);
        (adding ??= new Map()).set(r.json, at);
        bytes += r.json.byteLength + 2 + digits(r.time);
      }
    }
    refs = i === 0 ? `${at}` : `${refs},${at}`;
  }
  const entry = `${text.head},"run_refs":[${refs}]${text.trace}}`;
  return { entry, added, bytes: bytes + Buffer.byteLength(entry) + 1 };
}

function add(f: Filling, p: BundlePart, e: { entry: string; added: number[]; bytes: number }): void {
  f.entries.push(e.entry);
  for (const i of e.added) {
    const r = p.part.runs[i]!;
    if (!f.index.has(r.json)) f.index.set(r.json, f.runs.length);
    f.runs.push(r.json);
    f.times.push(r.time);
  }
  f.bytes += e.bytes;
}

function slicesOf(f: Filling, runsPartition: number): BundleSlices {
  const head = Buffer.from(
    `{"schema_version":1,"runs_partition":${runsPartition},"parts":[${f.entries.join(",")}],` +
      `"run_times":[${f.times.join(",")}],"runs":[`,
  );
  const shared: Uint8Array[] = [];
  let bytes = head.length + TAIL.length;
  for (const [i, r] of f.runs.entries()) {
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
    let e = entryIn(f, p, text);
    if (f.entries.length > 0 && f.bytes + e.bytes > maxBytes) {
      out.push(slicesOf(f, runsPartition));
      f = filling();
      // Only the refs differ in a new bundle: the head and trace context are the same text.
      e = entryIn(f, p, text);
    }
    add(f, p, e);
  }
  if (f.entries.length > 0) out.push(slicesOf(f, runsPartition));
  return out;
}
