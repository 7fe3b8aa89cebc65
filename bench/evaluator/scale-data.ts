// The evaluator benches' data: runs of ~1.6 KB spread over the tenants given, alerting-style filters,
// and the scale benches' rules, ten per tenant, every tenant with every kind of filter.
import { randomUUID } from "node:crypto";
import type { RuleVersion } from "@runhooks/contracts";

export const tenants = (n: number): string[] => Array.from({ length: n }, () => randomUUID());

export function run(i: number, tenants: readonly string[]): string {
  const id = randomUUID();
  const start = Date.now() - 2000 - (i % 5000);
  const tenant = tenants[i % tenants.length]!;
  return JSON.stringify({
    id,
    trace_id: id,
    name: i % 3 === 0 ? "ChatOpenAI" : i % 3 === 1 ? "RetrievalQA" : "Search",
    run_type: i % 3 === 0 ? "llm" : i % 3 === 1 ? "chain" : "tool",
    status: i % 10 === 0 ? "error" : "success",
    error: i % 10 === 0 ? "RateLimitError: too many requests" : null,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + (i % 7000)).toISOString(),
    tenant_id: tenant,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    parent_run_id: null,
    is_root: true,
    tags: [`tag-${i % 20}`, "bench"],
    extra: { metadata: { env: i % 2 ? "prod" : "staging", customer: `c-${i % 50}`, ls_model_name: "gpt-4o-mini" } },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(8) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(8) }] },
    total_tokens: i % 2000,
    prompt_tokens: i % 1500,
    completion_tokens: i % 500,
    total_cost: (i % 2000) * 0.000002,
    feedback_stats: null,
    app_path: `/o/${tenant}/projects/p/6a3be6a2/r/${id}`,
  });
}

/** Alerting-style rules, as bench:evaluator's: a few runs in a hundred each. */
export function selectiveFilter(k: number): unknown {
  switch (k % 5) {
    case 0:
      return { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] };
    case 1:
      return { and: [{ "==": [{ var: "run_type" }, "chain"] }, { ">": [{ var: "latency" }, 6.9 + (k % 3) * 0.01] }] };
    case 2:
      return { ">": [{ var: "total_cost" }, 0.00398 - (k % 10) * 0.000001] };
    case 3:
      return { and: [{ var: "has_error" }, { in: [`tag-${k % 20}`, { var: "tags" }] }] };
    default:
      return {
        and: [{ "==": [{ var: "metadata.env" }, "prod"] }, { "==": [{ var: "metadata.customer" }, `c-${k % 50}`] }],
      };
  }
}

export function rules(count: number, tenants: readonly string[], filterFor: (k: number) => unknown, seconds: number) {
  return Array.from({ length: count }, (_, i): RuleVersion => ({
    schema_version: 1,
    kind: "rule",
    rule_id: randomUUID(),
    version: 1,
    tenant_id: tenants[i % tenants.length]!,
    session_id: null,
    enabled: true,
    // The k-th rule of its tenant: each tenant has every kind of filter.
    filter: filterFor(Math.floor(i / tenants.length)) as RuleVersion["filter"],
    sampling_rate: 1,
    window: { seconds, max_runs: 10_000 },
  }));
}

/**
 * bench:evaluator's rules: the i-th rule of `count` belongs to tenant i mod n and has filter i, so each of
 * ten tenants has one kind of filter and a matching run joins many of its tenant's windows.
 */
export function benchRules(
  count: number,
  tenants: readonly string[],
  seconds: number,
  filterFor: (i: number) => unknown = selectiveFilter,
): RuleVersion[] {
  return Array.from({ length: count }, (_, i): RuleVersion => ({
    schema_version: 1,
    kind: "rule",
    rule_id: randomUUID(),
    version: 1,
    tenant_id: tenants[i % tenants.length]!,
    session_id: null,
    enabled: true,
    filter: filterFor(i) as RuleVersion["filter"],
    sampling_rate: 1,
    window: { seconds, max_runs: 100 },
  }));
}
