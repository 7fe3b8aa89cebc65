import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DeadLetter,
  DeliveryAttempt,
  MatchWindow,
  Rule,
  RuleVersion,
  Run,
  WebhookPayload,
  describeIssues,
  isUnsendableHeader,
  parseWith,
  runKey,
  toWebhookPayload,
} from "@runhooks/contracts";

const seedPayload = JSON.parse(readFileSync(new URL("./fixtures/seed-payload.json", import.meta.url), "utf8")) as {
  rule_id: string;
  runs: Record<string, unknown>[];
};
const seedRun = seedPayload.runs[0]!;

function issuesOf(schema: Parameters<typeof parseWith>[0], input: unknown) {
  const result = parseWith(schema, input);
  if (result.ok) throw new Error("expected the input to be refused");
  return result.issues;
}

describe("Run", () => {
  it("accepts LangSmith's example run, field for field", () => {
    const parsed = Run.parse(seedRun);
    expect(parsed).toEqual(seedRun);
  });

  it("keeps unknown fields so they reach webhooks unchanged", () => {
    const parsed = Run.parse({ ...seedRun, custom_field: { nested: [1, 2] } });
    expect(parsed["custom_field"]).toEqual({ nested: [1, 2] });
  });

  it("accepts costs as numbers or decimal strings, as LangSmith sends both", () => {
    expect(Run.parse({ ...seedRun, total_cost: 0.0012 }).total_cost).toBe(0.0012);
    expect(Run.parse({ ...seedRun, total_cost: "0.0012" }).total_cost).toBe("0.0012");
  });

  it.each([
    ["id", { id: "not-a-uuid" }, "must be a UUID"],
    ["tenant_id", { tenant_id: undefined }, ""],
    ["start_time", { start_time: "yesterday" }, "ISO-8601"],
    ["total_tokens", { total_tokens: -1 }, ""],
    ["parent_run_ids[1]", { parent_run_ids: ["6ab80f10-d79c-4fa2-b441-922ed6feb630", "x"] }, "must be a UUID"],
    ["extra.metadata", { extra: { metadata: 3n } }, ""],
    ["total_cost", { total_cost: "cheap" }, ""],
  ])("names the field at fault: %s", (path, patch, fragment) => {
    const issues = issuesOf(Run, { ...seedRun, ...patch });
    const paths = issues.map((i) => i.path);
    expect(paths.some((p) => p === path || p.startsWith(`${path}.`))).toBe(true);
    expect(describeIssues(issues)).toContain(fragment);
  });

  it("keys a run by its trace, falling back to its id", () => {
    expect(runKey({ id: "a", trace_id: "t" })).toBe("t");
    expect(runKey({ id: "a", trace_id: null })).toBe("a");
  });
});

describe("WebhookPayload", () => {
  it("accepts LangSmith's example payload", () => {
    expect(WebhookPayload.parse(seedPayload)).toEqual(seedPayload);
  });

  it("refuses anything beyond LangSmith's four top-level fields", () => {
    const issues = issuesOf(WebhookPayload, { ...seedPayload, extra: 1 });
    expect(describeIssues(issues)).toMatch(/extra/);
  });

  it("names a broken run inside the payload", () => {
    const issues = issuesOf(WebhookPayload, { ...seedPayload, runs: [{ ...seedRun, name: "" }] });
    expect(issues.map((i) => i.path)).toContain("runs[0].name");
  });

  it("is built from a window with exactly LangSmith's shape", () => {
    const window = MatchWindow.parse({
      schema_version: 1,
      window_id: "0b7f1f2e-7f5e-5c1b-9d0a-1f0e2d3c4b5a",
      rule_id: seedPayload.rule_id,
      rule_version: 1,
      tenant_id: seedRun["tenant_id"],
      partition: 0,
      chunk: 0,
      start_time: "2024-04-05T01:28:50.000Z",
      end_time: "2024-04-05T01:28:55.000Z",
      runs: seedPayload.runs,
    });
    const payload = toWebhookPayload(window);
    expect(Object.keys(payload).sort()).toEqual(["end_time", "rule_id", "runs", "start_time"]);
    expect(WebhookPayload.parse(payload)).toEqual(payload);
  });
});

describe("Rule", () => {
  const rule = {
    id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
    display_name: "LLM errors in prod",
    tenant_id: "2ebda79f-2946-4491-a9ad-d642f49e0815",
    filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] },
    webhooks: [{ url: "https://example.com/hook?secret=abc", headers: { "x-team": "ml" } }],
  };

  it("fills the defaults a user may leave out", () => {
    const parsed = Rule.parse(rule);
    expect(parsed.enabled).toBe(true);
    expect(parsed.sampling_rate).toBe(1);
    expect(parsed.window).toEqual({ seconds: 5, max_runs: 100 });
  });

  it.each([
    ["sampling_rate", { sampling_rate: 1.5 }, "between 0 and 1"],
    ["webhooks[0].url", { webhooks: [{ url: "ftp://example.com/x" }] }, "http"],
    [
      "webhooks[0].headers.webhook-id",
      { webhooks: [{ url: "https://e.com", headers: { "webhook-id": "x" } }] },
      "cannot be overridden",
    ],
    [
      "webhooks[0].headers.x-team",
      { webhooks: [{ url: "https://e.com", headers: { "x-team": "ml\r\nx-evil: 1" } }] },
      "control characters",
    ],
    ["webhooks[0].signing_secret", { webhooks: [{ url: "https://e.com", signing_secret: "hunter2" }] }, "whsec_"],
    ["window.seconds", { window: { seconds: 0, max_runs: 10 } }, ""],
    ["display_name", { display_name: "" }, "must not be empty"],
    ["trace_horizon_seconds", { trace_horizon_seconds: 0 }, ""],
    ["trace_horizon_seconds", { trace_horizon_seconds: 3601 }, ""],
    ["trace_horizon_seconds", { trace_horizon_seconds: 1.5 }, ""],
  ])("names the field at fault: %s", (path, patch, fragment) => {
    const issues = issuesOf(Rule, { ...rule, ...patch });
    expect(issues.map((i) => i.path)).toContain(path);
    expect(describeIssues(issues)).toContain(fragment);
  });

  it.each([
    ["Transfer-Encoding", "connection-level"],
    ["connection", "connection-level"],
    ["Keep-Alive", "connection-level"],
    ["upgrade", "connection-level"],
    ["TE", "connection-level"],
    ["trailer", "connection-level"],
    ["Expect", "connection-level"],
    ["Proxy-Authorization", "connection-level"],
    ["proxy-connection", "connection-level"],
    ["Host", "set by runhooks"],
    ["content-length", "set by runhooks"],
    ["Content-Type", "set by runhooks"],
    ["user-agent", "set by runhooks"],
    ["traceparent", "set by runhooks"],
    ["tracestate", "set by runhooks"],
    ["Webhook-Id", "set by runhooks"],
    ["webhook-timestamp", "set by runhooks"],
    ["webhook-signature", "set by runhooks"],
    ["Runhooks-Attempt", "set by runhooks"],
    ["x team", "valid HTTP header name"],
    ["x-team:", "valid HTTP header name"],
    ["x-\u0000", "valid HTTP header name"],
    ["", "valid HTTP header name"],
  ])("refuses the custom header %j, naming it (%s)", (name, fragment) => {
    const issues = issuesOf(Rule, { ...rule, webhooks: [{ url: "https://e.com", headers: { [name]: "v" } }] });
    expect(issues).toEqual([
      { path: `webhooks[0].headers.${name}`, message: expect.stringContaining(fragment) as string },
    ]);
    expect(isUnsendableHeader(name)).toBe(true);
  });

  it.each(["x-team", "Authorization", "X-Api-Key", "cookie", "proxy", "x-proxy-id", "Accept"])(
    "accepts the custom header %j",
    (name) => {
      expect(parseWith(Rule, { ...rule, webhooks: [{ url: "https://e.com", headers: { [name]: "v" } }] }).ok).toBe(
        true,
      );
      expect(isUnsendableHeader(name)).toBe(false);
    },
  );

  it.each(["a\rb", "a\nb", "a\u0000b", "a\u0007b", "\u2028"])("refuses the header value %j", (value) => {
    const issues = issuesOf(Rule, { ...rule, webhooks: [{ url: "https://e.com", headers: { "x-team": value } }] });
    expect(issues.map((i) => i.path)).toEqual(["webhooks[0].headers.x-team"]);
  });

  it("refuses two headers whose names differ only in case", () => {
    const issues = issuesOf(Rule, {
      ...rule,
      webhooks: [{ url: "https://e.com", headers: { "X-Team": "a", "x-team": "b" } }],
    });
    expect(issues).toEqual([
      { path: "webhooks[0].headers.x-team", message: expect.stringContaining('same header as "X-Team"') as string },
    ]);
  });

  it("carries the trace-aware fields when set, and reads versions written without them", () => {
    const base = {
      schema_version: 1,
      kind: "rule",
      rule_id: rule.id,
      version: 1,
      tenant_id: rule.tenant_id,
      session_id: null,
      enabled: true,
      filter: rule.filter,
      sampling_rate: 1,
      window: { seconds: 5, max_runs: 100 },
    };
    expect(RuleVersion.parse(base)).toEqual(base);
    const traced = {
      ...base,
      trace_filter: { in: ["vip", { var: "tags" }] },
      tree_filter: { "==": [{ var: "run_type" }, "tool"] },
      trace_horizon_seconds: 600,
    };
    expect(RuleVersion.parse(traced)).toEqual(traced);
    expect(Rule.parse({ ...rule, trace_filter: traced.trace_filter }).trace_filter).toEqual(traced.trace_filter);
  });

  it("keeps webhook secrets out of the Kafka rule version", () => {
    const version = RuleVersion.safeParse({
      schema_version: 1,
      kind: "rule",
      rule_id: rule.id,
      version: 1,
      tenant_id: rule.tenant_id,
      session_id: null,
      enabled: true,
      filter: rule.filter,
      sampling_rate: 1,
      window: { seconds: 5, max_runs: 100 },
      webhooks: rule.webhooks,
    });
    expect(version.success).toBe(false);
  });
});

describe("records", () => {
  it("refuses an attempt with an unknown outcome, naming it", () => {
    const issues = issuesOf(DeliveryAttempt, {
      schema_version: 1,
      delivery_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
      window_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
      rule_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
      webhook_id: "d75d7417-0c57-4655-88fe-1db3cda3a47a",
      url: "https://example.com/hook?secret=***",
      attempt: 1,
      trigger: "scheduled",
      started_at: "2024-04-05T01:28:54.000Z",
      duration_ms: 12,
      outcome: "exploded",
      status_code: null,
      error: null,
      response_excerpt: null,
    });
    expect(issues.map((i) => i.path)).toEqual(["outcome"]);
  });

  it("keeps a dead letter's original bytes as base64", () => {
    const original = Buffer.from("{not json").toString("base64");
    const letter = DeadLetter.parse({
      schema_version: 1,
      reason: "invalid_json",
      error: "Unexpected token n",
      original,
      topic: "runhooks.runs",
      partition: 2,
      offset: "17",
      dead_lettered_at: "2024-04-05T01:28:54.000Z",
    });
    expect(Buffer.from(letter.original, "base64").toString()).toBe("{not json");
    expect(issuesOf(DeadLetter, { ...letter, offset: -1 }).map((i) => i.path)).toEqual(["offset"]);
  });
});
