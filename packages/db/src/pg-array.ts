/**
 * A Postgres array literal (`{"a","b",NULL}`) of scalar values, for one bound parameter cast to the
 * array type (`${pgArray(ids)}::uuid[]`). The batched statements pass a dozen columns this way per
 * row; pg's own array encoding runs two regular-expression replaces per element and formats dates by
 * hand — most of the garbage a batch made. Strings are always quoted (so "", "NULL", spaces and braces
 * are plain text) and escaped only when they hold a quote or a backslash; dates are ISO 8601 (UTC).
 */
export function pgArray(values: readonly (string | number | boolean | Date | null | undefined)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const v = values[i];
    if (v === null || v === undefined) out += "NULL";
    else if (typeof v === "string") out += quote(v);
    else if (v instanceof Date) out += v.toISOString();
    else if (typeof v === "number" && !Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    else out += String(v);
  }
  return `${out}}`;
}

function quote(s: string): string {
  if (s.indexOf('"') === -1 && s.indexOf("\\") === -1) return `"${s}"`;
  return `"${s.replace(/[\\"]/g, "\\$&")}"`;
}
