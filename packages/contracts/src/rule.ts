import { z } from "zod";
import { Id, JsonValue, SCHEMA_VERSION, UtcTimestamp } from "./common.js";

/** Longest window a rule may ask for; the rules topic's compaction lag must stay well above it. */
export const MAX_WINDOW_SECONDS = 3600;
export const MAX_WINDOW_RUNS = 10_000;
export const MAX_WEBHOOKS_PER_RULE = 10;
/** Longest trace horizon a rule may ask for (DESIGN.md §4, trace-aware rules): a restart refolds twice it. */
export const MAX_TRACE_HORIZON_SECONDS = 3600;

const HttpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .max(2048, "must be at most 2048 characters");

/** Header names runhooks sets on every webhook request (DESIGN.md §5); a webhook may not set them. */
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
  "runhooks-attempt",
  "runhooks-chunk-index",
  "runhooks-chunk-count",
] as const;

/**
 * Headers that describe one connection or the message framing, not the request (RFC 9110 §7.6.1):
 * the HTTP client owns them, and undici refuses some (`transfer-encoding` fails every send) and
 * drops others. `proxy-*` names too (`isUnsendableHeader`).
 */
export const HOP_BY_HOP_HEADERS = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "expect",
] as const;

/** RFC 9110 token: the characters a header name may have. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Why a webhook may not carry this header name (any case), or undefined if it may. */
export function headerNameProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (!HEADER_NAME.test(name)) return "must be a valid HTTP header name (letters, digits and !#$%&'*+.^_`|~-)";
  if ((RESERVED_HEADERS as readonly string[]).includes(lower))
    return "is set by runhooks and cannot be overridden; remove it";
  if ((HOP_BY_HOP_HEADERS as readonly string[]).includes(lower) || lower.startsWith("proxy-")) {
    return "is a connection-level header that the HTTP client sets; remove it";
  }
  return undefined;
}

/**
 * Whether delivery skips this custom header: whatever `headerNameProblem` refuses at write, so that
 * no stored version, whatever names it holds, becomes undeliverable.
 */
export function isUnsendableHeader(name: string): boolean {
  return headerNameProblem(name) !== undefined;
}

/** RFC 9110 field values: visible characters, spaces and tabs; never CR, LF or NUL (header injection). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Custom headers; each bad name is reported at its own path (`headers.<name>`). */
const Headers = z
  .record(z.string(), z.string().max(4096).regex(HEADER_VALUE, "must not contain control characters (CR, LF, NUL…)"))
  .superRefine((headers, ctx) => {
    const seen = new Map<string, string>();
    for (const name of Object.keys(headers)) {
      const problem = headerNameProblem(name);
      if (problem !== undefined) ctx.addIssue({ code: "custom", path: [name], message: problem });
      const other = seen.get(name.toLowerCase());
      if (other !== undefined)
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `is the same header as ${JSON.stringify(other)} (names ignore case); keep one`,
        });
      seen.set(name.toLowerCase(), name);
    }
  });

/** Longest delay a retry schedule may hold between two attempts: one day, in seconds. */
export const MAX_RETRY_DELAY_SECONDS = 86_400;
/** Most retries an explicit schedule may list. */
export const MAX_RETRY_SCHEDULE_LENGTH = 20;

/**
 * A webhook's retry policy (DESIGN.md §5). Absent: the default policy (LangSmith's: 5xx and failed
 * connections retried twice, after 1 s and 2 s). `schedule` opts in to retries over a longer span:
 * `"standard"` is Standard Webhooks' suggestion (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each with
 * ±10% jitter derived from the delivery id), or the delays in seconds of each retry after the attempt
 * before it. Under a schedule timeouts are retried too, 408/425/429 unless `retry_throttled` is false,
 * and a `Retry-After` answer (delta-seconds or an HTTP date) may lengthen a wait, never beyond the
 * schedule's longest delay, unless `honor_retry_after` is false.
 */
export const WebhookRetry = z.strictObject({
  schedule: z.union([
    z.literal("standard"),
    z
      .array(
        z
          .number()
          .min(0, "must be 0 or more seconds")
          .max(MAX_RETRY_DELAY_SECONDS, `must be at most ${MAX_RETRY_DELAY_SECONDS} seconds`),
      )
      .min(1, "must list at least one delay (seconds)")
      .max(MAX_RETRY_SCHEDULE_LENGTH, `must list at most ${MAX_RETRY_SCHEDULE_LENGTH} delays`),
  ]),
  retry_throttled: z.boolean().default(true),
  honor_retry_after: z.boolean().default(true),
});
export type WebhookRetry = z.infer<typeof WebhookRetry>;

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
  /** Absent: the default retry policy. */
  retry: WebhookRetry.optional(),
});
export type Webhook = z.infer<typeof Webhook>;

export const RuleWindow = z.strictObject({
  seconds: z.number().int().min(1).max(MAX_WINDOW_SECONDS),
  max_runs: z.number().int().min(1).max(MAX_WINDOW_RUNS),
});
export type RuleWindow = z.infer<typeof RuleWindow>;

/**
 * The trace-aware fields (DESIGN.md §4): `trace_filter` holds for the root run of the run's trace,
 * `tree_filter` for some run of it; the run waits for its trace at most `trace_horizon_seconds` of
 * stream time (absent: the evaluator's default). Optional on the wire: versions written without them
 * still parse.
 */
const TraceFields = {
  trace_filter: JsonValue.optional(),
  tree_filter: JsonValue.optional(),
  trace_horizon_seconds: z.number().int().min(1).max(MAX_TRACE_HORIZON_SECONDS).optional(),
};

/**
 * A rule as users write it (files, API, CLI). The filters — JSON-logic, or strings in LangSmith's
 * filter language, kept as written — are checked by `@runhooks/rules` (`resolveRuleFilter`:
 * operators, `var` paths, depth, size, cost); here they only have to be JSON.
 */
export const Rule = z.strictObject({
  id: Id,
  display_name: z.string().min(1, "must not be empty").max(200),
  tenant_id: Id,
  session_id: Id.nullish(),
  enabled: z.boolean().default(true),
  filter: JsonValue,
  ...TraceFields,
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
  ...TraceFields,
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
