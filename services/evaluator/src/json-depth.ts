/**
 * How deeply a JSON text nests, found by one iterative pass over its bytes (no recursion, no
 * allocation), so that nothing recursive — zod's schema walk, a filter's string coercion of an array —
 * ever meets a value deep enough to exhaust the stack. A stack overflow's threshold depends on how
 * deep the caller already was, so it would not even fail the same way on a replay; this check does.
 *
 * Brackets inside strings do not count. Strings are skipped with `indexOf` (native), so runs that are
 * mostly prompt and completion text cost little more than a `memchr` over them. The text is assumed
 * to be JSON that `JSON.parse` accepts; on anything else the answer is still an upper bound.
 */
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
