import { isInstantString } from "@runhooks/contracts";
import { parseInstant, type Instant } from "@runhooks/rules";
import { isObject } from "./json-object.js";

/**
 * Fields LangSmith's payload carries that the SDKs do not send, read from what they do send. Pure and
 * total: a malformed input gives undefined (the field stays unset), never an exception.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `YYYYMMDDTHHMMSS` and the fraction (microseconds, or milliseconds and a 3-digit execution order). */
const SEGMENT_TIME = /^\d{8}T\d{6}\d{0,12}$/;

/**
 * The run ids a dotted order names, root first: `<time>Z<id>` per ancestor and the run itself, joined
 * by `.`. Undefined unless every segment is well formed.
 */
export function dottedOrderIds(dotted: unknown): string[] | undefined {
  if (typeof dotted !== "string" || dotted === "") return undefined;
  const ids: string[] = [];
  for (const segment of dotted.split(".")) {
    const z = segment.indexOf("Z");
    if (z < 0 || !SEGMENT_TIME.test(segment.slice(0, z))) return undefined;
    const id = segment.slice(z + 1);
    if (!GUID.test(id)) return undefined;
    ids.push(id.toLowerCase());
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
