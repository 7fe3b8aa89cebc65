import { z } from "zod";
import { Id, JsonValue, SCHEMA_VERSION, UtcTimestamp } from "./common.js";

/** Longest window a rule may ask for; the rules topic's compaction lag must stay well above it. */
export const MAX_WINDOW_SECONDS = 3600;
export const MAX_WINDOW_RUNS = 10_000;
export const MAX_WEBHOOKS_PER_RULE = 10;

const HttpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .max(2048, "must be at most 2048 characters");

/** Header names a webhook may not override: they carry our own delivery semantics. */
export const RESERVED_HEADERS = [
  "content-type",
  "content-length",
  "host",
  "user-agent",
  "traceparent",
  "tracestate",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
] as const;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Custom headers; each bad name is reported at its own path (`headers.<name>`). */
/** RFC 9110 field values: visible characters, spaces and tabs; never CR, LF or NUL (header injection). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const Headers = z.record(z.string(), z.string().max(4096).regex(HEADER_VALUE, "must not contain control characters (CR, LF, NUL…)")).superRefine((headers, ctx) => {
  for (const name of Object.keys(headers)) {
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({ code: "custom", path: [name], message: "must be a valid HTTP header name" });
    } else if ((RESERVED_HEADERS as readonly string[]).includes(name.toLowerCase())) {
      ctx.addIssue({ code: "custom", path: [name], message: "is set by runhooks and cannot be overridden" });
    }
  }
});

/**
 * A webhook target. `url` may hold a `secret` query parameter, `headers` and `signing_secret` are
 * secrets too: they live in Postgres only and are redacted everywhere else.
 */
export const Webhook = z.strictObject({
  /** Assigned by the store; absent in a rule document written by a user. */
  id: Id.optional(),
  url: HttpUrl,
  headers: Headers.default({}),
  /** Standard Webhooks signing key: `whsec_` followed by base64 key bytes. */
  signing_secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, "must be whsec_ followed by at least 16 base64 characters")
    .optional(),
});
export type Webhook = z.infer<typeof Webhook>;

export const RuleWindow = z.strictObject({
  seconds: z.number().int().min(1).max(MAX_WINDOW_SECONDS),
  max_runs: z.number().int().min(1).max(MAX_WINDOW_RUNS),
});
export type RuleWindow = z.infer<typeof RuleWindow>;

/**
 * A rule as users write it (files, API, CLI). The filter's JSON-logic is checked structurally by
 * `@runhooks/rules` (operators, `var` paths, depth, size); here it only has to be JSON.
 */
export const Rule = z.strictObject({
  id: Id,
  display_name: z.string().min(1, "must not be empty").max(200),
  tenant_id: Id,
  session_id: Id.nullish(),
  enabled: z.boolean().default(true),
  filter: JsonValue,
  sampling_rate: z.number().min(0, "must be between 0 and 1").max(1, "must be between 0 and 1").default(1),
  window: RuleWindow.default({ seconds: 5, max_runs: 100 }),
  webhooks: z.array(Webhook).max(MAX_WEBHOOKS_PER_RULE).default([]),
});
export type Rule = z.infer<typeof Rule>;

/**
 * The matching part of one rule version, the value of a `runhooks.rules` message keyed by rule id.
 * It deliberately has no webhook URLs, headers or secrets: those never enter Kafka. A rule's deletion
 * is a tombstone (null value). The version is in force from the message's append time.
 */
export const RuleVersion = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  kind: z.literal("rule"),
  rule_id: Id,
  version: z.number().int().positive(),
  tenant_id: Id,
  session_id: Id.nullable(),
  enabled: z.boolean(),
  filter: JsonValue,
  sampling_rate: z.number().min(0).max(1),
  window: RuleWindow,
});
export type RuleVersion = z.infer<typeof RuleVersion>;

export const RuleEventType = z.enum(["created", "updated", "enabled", "disabled", "deleted"]);
export type RuleEventType = z.infer<typeof RuleEventType>;

/**
 * One entry of a rule's append-only history (Postgres `rule_events`). It holds the full rule version,
 * secrets included, so it never leaves Postgres unredacted.
 */
export const RuleEvent = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  rule_id: Id,
  version: z.number().int().positive(),
  type: RuleEventType,
  occurred_at: UtcTimestamp,
  rule: Rule,
});
export type RuleEvent = z.infer<typeof RuleEvent>;
