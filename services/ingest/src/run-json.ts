import type { JsonObject } from "./run-ops.js";

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

/** A run as the UTF-8 JSON produced to Kafka: `JSON.stringify(run)`, with the `sent` text of unchanged objects. */
export function runJson(run: JsonObject, sent: SentJson): Buffer {
  if (sent.size === 0) return Buffer.from(JSON.stringify(run));
  const rest: JsonObject = {};
  let tail = "";
  for (const key of Object.keys(run)) {
    const value = run[key];
    const text = typeof value === "object" && value !== null ? sent.get(value) : undefined;
    if (text !== undefined) tail += `,${JSON.stringify(key)}:${text}`;
    // A run's own `__proto__` key (JSON.parse makes one) stays a plain field, as in JSON.stringify(run).
    else if (key === "__proto__") Object.defineProperty(rest, key, { value, enumerable: true, writable: true, configurable: true });
    else rest[key] = value;
  }
  if (tail === "") return Buffer.from(JSON.stringify(run));
  const head = JSON.stringify(rest);
  // `{…rest…` + `,"field":<text>`… + `}`; without a rest, the tail's first comma goes.
  return Buffer.from(head.length === 2 ? `{${tail.slice(1)}}` : `${head.slice(0, -1)}${tail}}`);
}
