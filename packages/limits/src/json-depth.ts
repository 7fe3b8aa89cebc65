/**
 * How deeply JSON nests, found without recursion, so that nothing recursive — zod's schema walk,
 * `JSON.stringify`, a filter's string coercion of an array — ever meets a value deep enough to exhaust
 * the stack. A stack overflow's threshold depends on how deep the caller already was, so it would not
 * even fail the same way on a replay; these checks do. `JSON.parse` itself does not recurse, so bytes
 * are checked before it, and a parsed value is walked with a stack.
 *
 * Brackets inside strings do not count. Strings are skipped with `indexOf` (native), so runs that are
 * mostly prompt and completion text cost little more than a `memchr` over them. The text is assumed
 * to be JSON that `JSON.parse` accepts; on anything else the answer is still an upper bound.
 */

/** Levels of objects and arrays a run may nest (ingest and the evaluator share it; a run is level 1). */
export const DEFAULT_MAX_JSON_DEPTH = 256;

export type DepthCheck = { readonly ok: true } | { readonly ok: false; readonly atByte: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Whether `bytes` nests at most `limit` objects/arrays deep; else the byte where it went past. */
export function checkJsonDepth(bytes: Uint8Array, limit: number): DepthCheck {
  let depth = 0;
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b === QUOTE) {
      i = stringEnd(bytes, i + 1);
      continue;
    }
    if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > limit) return { ok: false, atByte: i };
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
    i++;
  }
  return { ok: true };
}

/** The index just past the closing quote of the string whose body starts at `from` (or the end). */
function stringEnd(bytes: Uint8Array, from: number): number {
  let i = from;
  for (;;) {
    const q = bytes.indexOf(QUOTE, i);
    if (q < 0) return bytes.length;
    // Escaped when preceded by an odd number of backslashes.
    let backslashes = 0;
    for (let j = q - 1; j >= from && bytes[j] === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/** True if the JSON text in `bytes` opens more than `max` objects/arrays at once. */
export function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  // Each level takes two bytes (its opening and closing bracket).
  if (bytes.length <= 2 * max) return false;
  return !checkJsonDepth(bytes, max).ok;
}

/** The depth of a parsed value (a scalar is 0, `{}` is 1), walked with a stack; stops past `max`. */
export function depthOf(value: unknown, max: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    const depth = d + 1;
    if (depth > deepest) deepest = depth;
    if (deepest > max) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth]);
    }
  }
  return deepest;
}
