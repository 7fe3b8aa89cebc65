import { isInstantString } from "@runhooks/contracts";
import { parseInstant, type Instant } from "@runhooks/rules";
import { isObject } from "./json-object.js";

/**
 * Fields LangSmith's payload carries that the SDKs do not send, read from what they do send. Pure and
 * total: a malformed input gives undefined (the field stays unset), never an exception.
 */

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const T = 0x54;
const Z = 0x5a;

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/** `s[from, from + 36)` is a UUID in 8-4-4-4-12 hex digits. */
function isGuidAt(s: string, from: number): boolean {
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(from + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= DIGIT_0 && c <= DIGIT_9) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) {
      return false;
    }
  }
  return true;
}

/**
 * The run ids a dotted order names, root first: `<time>Z<id>` per ancestor and the run itself, joined
 * by `.`, where `<time>` is `YYYYMMDDTHHMMSS` and a fraction of up to 12 digits (microseconds, or
 * milliseconds and a 3-digit execution order). Undefined unless every segment is well formed. By hand
 * rather than with regular expressions: it runs for every run ingest produces.
 */
export function dottedOrderIds(dotted: unknown): string[] | undefined {
  if (typeof dotted !== "string") return undefined;
  const ids: string[] = [];
  let start = 0;
  while (start <= dotted.length) {
    let end = dotted.indexOf(".", start);
    if (end < 0) end = dotted.length;
    // <8 digits>T<6 to 18 digits>Z<36>
    const z = end - 37;
    if (z - start < 15 || z - start > 27 || dotted.charCodeAt(z) !== Z || dotted.charCodeAt(start + 8) !== T)
      return undefined;
    for (let i = start; i < z; i++) if (i !== start + 8 && !isDigitAt(dotted, i)) return undefined;
    if (!isGuidAt(dotted, z + 1)) return undefined;
    ids.push(dotted.slice(z + 1, end).toLowerCase());
    start = end + 1;
  }
  return ids;
}

/**
 * `parent_run_ids`: the ancestors' ids, root first (`[]` for a root). From the dotted order, which must
 * end with the run's own id and, when the run names its parent, have that parent last among the
 * ancestors; a run without a dotted order and without a parent is a root. Otherwise undefined.
 */
export function parentRunIdsOf(run: {
  readonly id?: unknown;
  readonly dotted_order?: unknown;
  readonly parent_run_id?: unknown;
}): string[] | undefined {
  const parent = run.parent_run_id;
  if (run.dotted_order === undefined || run.dotted_order === null) return parent == null ? [] : undefined;
  const ids = dottedOrderIds(run.dotted_order);
  if (ids === undefined || typeof run.id !== "string" || ids.at(-1) !== run.id.toLowerCase()) return undefined;
  const ancestors = ids.slice(0, -1);
  if (parent != null) {
    if (typeof parent !== "string" || ancestors.at(-1) !== parent.toLowerCase()) return undefined;
  } else if (ancestors.length > 0) {
    return undefined;
  }
  return ancestors;
}

function before(a: Instant, b: Instant): boolean {
  return a.seconds < b.seconds || (a.seconds === b.seconds && a.nanos < b.nanos);
}

/**
 * `first_token_time`: the time of the earliest event named `new_token` (the SDKs add one per streamed
 * chunk of an `llm` run), as the event wrote it (epoch milliseconds become ISO-8601 UTC). Events
 * without a valid time are skipped.
 */
export function firstTokenTimeOf(events: unknown): string | undefined {
  if (!Array.isArray(events)) return undefined;
  let first: { at: Instant; text: string } | undefined;
  for (const event of events as unknown[]) {
    if (!isObject(event) || event["name"] !== "new_token") continue;
    const time = event["time"];
    let at: Instant | undefined;
    let text: string | undefined;
    if (typeof time === "string") {
      // The run contract's own check (Timestamp): the value is produced as written.
      at = isInstantString(time) ? parseInstant(time) : undefined;
      text = time;
    } else if (typeof time === "number" && Number.isFinite(time) && Math.abs(time) <= 8.64e15) {
      const ms = Math.floor(time);
      at = { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 };
      text = new Date(ms).toISOString();
    }
    if (at !== undefined && text !== undefined && (first === undefined || before(at, first.at))) first = { at, text };
  }
  return first?.text;
}
