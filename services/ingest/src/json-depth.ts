/**
 * How deep JSON nests, found without recursion: a run nested thousands deep would overflow the stack of
 * every recursive reader after ingest (JSON.stringify, the schema checks, the evaluator). JSON.parse
 * itself does not recurse, so the bytes are checked before, and a parsed value is walked with a stack.
 */

/** The depth of objects and arrays a run (or a multipart part) may nest; RUNHOOKS_INGEST_MAX_JSON_DEPTH. */
export const DEFAULT_MAX_JSON_DEPTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True if the JSON text in `data` opens more than `max` objects/arrays at once (strings skipped, so
 * brackets inside them do not count). Linear; invalid JSON is left to the parser.
 */
export function nestsDeeperThan(data: Uint8Array, max: number): boolean {
  // Each level takes two bytes (its opening and closing bracket).
  if (data.length <= 2 * max) return false;
  let depth = 0;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const c = data[i];
    if (c === QUOTE) {
      // To the closing quote: the next quote not escaped (an odd run of backslashes before it).
      for (;;) {
        const q = data.indexOf(QUOTE, i + 1);
        if (q < 0) return false;
        let slashes = 0;
        while (data[q - 1 - slashes] === BACKSLASH) slashes++;
        i = q;
        if (slashes % 2 === 0) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
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

export function tooDeepMessage(max: number): string {
  return `nested deeper than ${max} levels of objects/arrays; the limit is ${max} (RUNHOOKS_INGEST_MAX_JSON_DEPTH): flatten the value or send it as a string`;
}
