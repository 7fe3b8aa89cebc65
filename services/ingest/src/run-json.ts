import type { JsonObject } from "./json-object.js";

/**
 * The JSON text a request's objects were parsed from, by the identity of the object parsed from it: the
 * SDKs send a run's large fields (`inputs`, `outputs`, `extra`, `events`…) as parts of their own, and a
 * field that still holds the very object parsed from its part is written as that text instead of being
 * serialised again (most of a run's bytes, and of the cost of writing it).
 *
 * Sound because `JSON.parse(text)` made that object: the text is one JSON value that reads back as it.
 * Whitespace and spelling (escapes, number forms) stay the client's. Objects only: a merge or a
 * normalisation makes new objects, so a changed field never matches.
 */
export type SentJson = ReadonlyMap<object, string>;

export const NO_SENT_JSON: SentJson = new Map();

/**
 * A run's JSON as produced to Kafka: `JSON.stringify(run)`, with the `sent` text of unchanged objects.
 * A string: it is written once, straight into the buffer that carries it to the producer thread.
 */
export function runJson(run: JsonObject, sent: SentJson): string {
  let tail = "";
  let rest: JsonObject | undefined;
  if (sent.size > 0) {
    for (const key in run) {
      if (!Object.hasOwn(run, key)) continue;
      const value = run[key];
      const text = typeof value === "object" && value !== null ? sent.get(value) : undefined;
      if (text === undefined) continue;
      tail += `,${JSON.stringify(key)}:${text}`;
      // A copy without the field: JSON.stringify leaves undefined out, and the copy keeps the run's
      // shape. (The spread made every key, `__proto__` too, an own data property: this sets that.)
      rest ??= { ...run };
      rest[key] = undefined;
    }
  }
  if (rest === undefined) return JSON.stringify(run);
  const head = JSON.stringify(rest);
  // `{…rest…` + `,"field":<text>`… + `}`; without a rest, the tail's first comma goes.
  return head.length === 2 ? `{${tail.slice(1)}}` : `${head.slice(0, -1)}${tail}}`;
}
