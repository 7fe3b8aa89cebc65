/** A JSON object as a request body holds it: every run, and every field the SDKs send as a part. */
export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
