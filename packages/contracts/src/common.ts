import { z } from "zod";

/** Every message we define carries the version of its schema, so consumers can evolve safely. */
export const SCHEMA_VERSION = 1 as const;
export const SchemaVersion = z.literal(SCHEMA_VERSION);
export type SchemaVersion = z.infer<typeof SchemaVersion>;

/**
 * LangSmith ids are UUIDs (v4 from older SDKs, v7 from newer ones). We accept any 8-4-4-4-12 hex
 * identifier rather than insisting on an RFC variant, so that ids minted by other producers still pass.
 */
export const Id = z.guid({ error: "must be a UUID (8-4-4-4-12 hex digits)" });
export type Id = z.infer<typeof Id>;

/**
 * LangSmith writes timestamps both with an offset (`2024-04-05T01:28:54.734491+00:00`) and without one
 * (`2024-04-05T01:28:54.085649`, meaning UTC). Both are accepted; arbitrary sub-second precision too.
 */
export const Timestamp = z.iso.datetime({
  offset: true,
  local: true,
  error: "must be an ISO-8601 timestamp such as 2024-04-05T01:28:54.085649Z",
});
export type Timestamp = z.infer<typeof Timestamp>;

/** Timestamps we emit are always UTC with a `Z` (LangSmith's payload shows ISO-8601 UTC). */
export const UtcTimestamp = z.iso.datetime({ error: "must be an ISO-8601 UTC timestamp ending in Z" });
export type UtcTimestamp = z.infer<typeof UtcTimestamp>;

/** Any JSON value. Used where the shape belongs to the user (filters, run inputs and outputs). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValue), z.record(z.string(), JsonValue)]),
);
