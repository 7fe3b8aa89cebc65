/**
 * Where the value of a top-level member lies in a JSON object's text, so it can be spliced into another
 * document byte for byte (no re-serialisation: unknown fields, key order and number spellings survive).
 * The text must be valid JSON — parse it first; this only scans.
 */
export function memberSpan(text: string, name: string): { start: number; end: number } | undefined {
  let depth = 0;
  let i = 0;
  const n = text.length;
  /** At depth 1, whether the next string is a member name. */
  let expectKey = false;
  let pendingKey: string | undefined;
  let valueStart = -1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i = stringEnd(text, i);
      if (depth === 1 && expectKey) {
        pendingKey = JSON.parse(text.slice(start, i)) as string;
        expectKey = false;
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth === 1) expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 1 && valueStart >= 0) return { start: valueStart, end: trimEnd(text, i) };
      depth--;
    } else if (depth === 1 && c === 0x2c /* , */) {
      if (valueStart >= 0) return { start: valueStart, end: trimEnd(text, i) };
      expectKey = true;
    } else if (depth === 1 && c === 0x3a /* : */) {
      if (pendingKey === name) {
        let s = i + 1;
        while (s < n && isSpace(text.charCodeAt(s))) s++;
        valueStart = s;
      }
      pendingKey = undefined;
    }
    i++;
  }
  return undefined;
}

/** Just past the closing quote of the string opening at `open` (jumping quote to quote: strings are most of a run's text). */
function stringEnd(text: string, open: number): number {
  let q = text.indexOf('"', open + 1);
  while (q !== -1) {
    // Escaped when preceded by an odd number of backslashes.
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
  return text.length;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function trimEnd(text: string, end: number): number {
  let e = end;
  while (e > 0 && isSpace(text.charCodeAt(e - 1))) e--;
  return e;
}

/**
 * Where each element of the JSON array at `[start, end)` of `text` lies (as `memberSpan` returns it):
 * each span without the spaces around it. The text must be valid JSON; an array's span starts at `[`.
 */
export function elementSpans(text: string, start: number, end: number): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let depth = 0;
  let elementStart = -1;
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (depth === 1 && elementStart < 0 && !isSpace(c) && c !== 0x2c && c !== 0x5d) elementStart = i;
    if (c === 0x22 /* " */) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 1 && elementStart >= 0) spans.push({ start: elementStart, end: trimEnd(text, i) });
      depth--;
      if (depth === 0) break;
    } else if (depth === 1 && c === 0x2c /* , */) {
      spans.push({ start: elementStart, end: trimEnd(text, i) });
      elementStart = -1;
    }
    i++;
  }
  return spans;
}
