import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
  Id,
  MAX_WEBHOOKS_PER_RULE,
  REDACTED_SIGNING_SECRET,
  Rule,
  Webhook,
  formatPath,
  isUnsendableHeader,
  type FieldIssue,
  type ParseResult,
} from "@runhooks/contracts";
import { RULE_FILTER_FIELDS, resolveRuleFilter } from "@runhooks/rules";

/** Fields the API shows on a rule but never takes from a client: sent back, they are ignored. */
const READ_ONLY_FIELDS = [
  "created_at",
  "updated_at",
  "effective_from",
  "filter_logic",
  "trace_filter_logic",
  "tree_filter_logic",
] as const;

/** Optional fields a client removes by sending null (a PATCH merges, so absent would keep them). */
const REMOVABLE_FIELDS = ["trace_filter", "tree_filter", "trace_horizon_seconds"] as const;

const signingSecret = Webhook.shape.signing_secret.unwrap();

/**
 * A webhook as a client may send it: as the contract says, except that the signing secret may be the
 * redacted `whsec_***` a client read from the API, which means "keep the stored secret".
 */
const WebhookInput = Webhook.extend({
  signing_secret: z
    .string()
    .refine((s) => s === REDACTED_SIGNING_SECRET || signingSecret.safeParse(s).success, {
      message: `must be whsec_ followed by at least 16 base64 characters (or ${REDACTED_SIGNING_SECRET} to keep the stored secret)`,
    })
    .optional(),
});

const RuleInput = Rule.extend({
  webhooks: z.array(WebhookInput).max(MAX_WEBHOOKS_PER_RULE).default([]),
});

const Version = z.number().int().positive();

export interface RuleDocument {
  readonly rule: Rule;
  /** The `version` field, if the client sent one: the version it last saw (optimistic concurrency). */
  readonly version: number | undefined;
}

export interface RuleDocumentContext {
  /** The caller's tenant: the default `tenant_id`, and the only one allowed. */
  readonly tenantId: string;
  /** The id the URL names (`PUT /rules/:id`); a body id must agree with it. */
  readonly pathId?: string | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates a rule document as a user wrote it (file, API, CLI): the contract's schema, then the
 * filter (`resolveFilter`: JSON-logic, or a LangSmith string kept as written), reporting every
 * problem with its path. `id` may be omitted (one is
 * generated), `tenant_id` too (the caller's tenant applies).
 */
export function parseRuleDocument(input: unknown, context: RuleDocumentContext): ParseResult<RuleDocument> {
  if (!isObject(input)) return { ok: false, issues: [{ path: "(root)", message: "must be a JSON object (a rule)" }] };
  const issues: FieldIssue[] = [];
  const { version: rawVersion, ...rest } = input;
  for (const field of READ_ONLY_FIELDS) delete rest[field];
  for (const field of REMOVABLE_FIELDS) if (rest[field] === null) delete rest[field];

  let version: number | undefined;
  if (rawVersion !== undefined) {
    const parsed = Version.safeParse(rawVersion);
    if (parsed.success) version = parsed.data;
    else issues.push({ path: "version", message: "must be a positive integer: the version you last read" });
  }

  if (rest["tenant_id"] === undefined) rest["tenant_id"] = context.tenantId;
  else if (rest["tenant_id"] !== context.tenantId) {
    issues.push({ path: "tenant_id", message: `must be your API key's tenant (${context.tenantId}), or omitted` });
  }
  if (rest["id"] === undefined) rest["id"] = context.pathId ?? randomUUID();
  else if (context.pathId !== undefined && rest["id"] !== context.pathId) {
    issues.push({ path: "id", message: `must match the id in the URL (${context.pathId}), or be omitted` });
  }

  const parsed = RuleInput.safeParse(rest);
  if (!parsed.success) {
    // The filters are checked below with their own, more precise, paths.
    issues.push(...issuesOf(parsed.error).filter((i) => !isFilterPath(i.path)));
  }
  issues.push(...filterIssues(rest));

  if (issues.length > 0 || !parsed.success) return { ok: false, issues: dedupe(issues) };
  return { ok: true, value: { rule: parsed.data, version } };
}

function isFilterPath(path: string): boolean {
  return RULE_FILTER_FIELDS.some(
    (field) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`),
  );
}

/**
 * The rule's filters, each as the evaluator reads it (`resolveRuleFilter`: the same structure and cost
 * bound for all three), and the trace horizon, which only a trace-aware rule has.
 */
function filterIssues(rest: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!("filter" in rest))
    issues.push({
      path: "filter",
      message: `is required: a JSON-logic expression (true matches every run) or a LangSmith filter string such as 'eq(run_type, "llm")'`,
    });
  for (const field of RULE_FILTER_FIELDS) {
    if (!(field in rest)) continue;
    const filter = resolveRuleFilter(field, rest[field]);
    if (!filter.ok) issues.push(...filter.issues);
  }
  if ("trace_horizon_seconds" in rest && !("trace_filter" in rest) && !("tree_filter" in rest)) {
    issues.push({
      path: "trace_horizon_seconds",
      message: "applies only to a rule with a trace_filter or a tree_filter: set one, or remove it",
    });
  }
  return issues;
}

/** Zod's issues as field issues; an unknown key is reported at its own path (`webhooks[0].secret`). */
export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: "is not a known field" }))
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
}

function dedupe(issues: readonly FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Prefixes issue paths: `filter.and[0]` → `rule.filter.and[0]` for a rule nested in a request. */
export function nestIssues(prefix: string, issues: readonly FieldIssue[]): FieldIssue[] {
  return issues.map((i) => ({ path: i.path === "(root)" ? prefix : `${prefix}.${i.path}`, message: i.message }));
}

/**
 * A stored rule's webhooks without the custom headers delivery never sends (`isUnsendableHeader`):
 * what a PATCH that leaves `webhooks` alone carries over, so a stored version holding such a name can
 * still be disabled or renamed. Dropping them changes nothing a receiver sees. A rotation's previous
 * signing secret is no client field: the store keeps it while the signing secret stays.
 */
export function withoutUnsendableHeaders(webhooks: unknown): unknown {
  if (!Array.isArray(webhooks)) return webhooks;
  return webhooks.map((w: unknown) => {
    if (!isObject(w)) return w;
    const { previous_signing_secret: _previous, ...rest } = w;
    if (!isObject(rest["headers"])) return rest;
    return {
      ...rest,
      headers: Object.fromEntries(Object.entries(rest["headers"]).filter(([name]) => !isUnsendableHeader(name))),
    };
  });
}

/** A rule id in a URL. */
export function parseRuleId(value: string): ParseResult<string> {
  const parsed = Id.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: [{ path: "id", message: "must be a UUID" }] };
}

/**
 * `If-Match: "3"` (also `W/"3"` or a bare `3`): the version the client last read. Undefined when the
 * header is absent.
 */
export function parseIfMatch(header: string | string[] | undefined): ParseResult<number | undefined> {
  if (header === undefined) return { ok: true, value: undefined };
  const text = (Array.isArray(header) ? (header[0] ?? "") : header).trim();
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(text);
  const version = match?.[1] === undefined ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(version) || version < 1) {
    return {
      ok: false,
      issues: [{ path: "If-Match", message: 'must be a rule version as the ETag shows it, e.g. "3"' }],
    };
  }
  return { ok: true, value: version };
}

/** The one expected version from `If-Match` and a body `version`; both given, they must agree. */
export function expectedVersion(
  ifMatch: number | undefined,
  bodyVersion: number | undefined,
): ParseResult<number | undefined> {
  if (ifMatch !== undefined && bodyVersion !== undefined && ifMatch !== bodyVersion) {
    return { ok: false, issues: [{ path: "version", message: `disagrees with If-Match (${ifMatch})` }] };
  }
  return { ok: true, value: ifMatch ?? bodyVersion };
}
