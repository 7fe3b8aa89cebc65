import { sql, type Database } from "@runhooks/db";
import { tableRightAligned } from "../table.js";
import type { ReceivedRequest } from "./receiver.js";

export interface DemoRule {
  readonly id: string;
  readonly name: string;
  readonly windowSeconds: number;
}

/** What Postgres recorded about the demo's rules. */
export interface RecordedFigures {
  /** Per rule id: windows stored, runs in them, deliveries and their statuses. */
  readonly rules: ReadonlyMap<
    string,
    { windows: number; runs: number; deliveries: number; succeeded: number; failed: number; open: number }
  >;
  /** Attempts by outcome (`interrupted` for an attempt whose worker stopped mid-way). */
  readonly attempts: Readonly<Record<string, number>>;
}

/** What the receiver got. */
export interface ReceivedFigures {
  readonly requests: number;
  readonly verified: number;
  /** Distinct deliveries (webhook-id) that reached the receiver, per rule. */
  readonly deliveriesByRule: ReadonlyMap<string, number>;
  /** Distinct runs received, per rule. */
  readonly runsByRule: ReadonlyMap<string, number>;
  /** Run log time (Kafka append time) → first arrival of the delivery that carried it, one sample per run and delivery. */
  readonly latencyMs: { readonly samples: number; readonly p50: number; readonly p99: number; readonly max: number };
}

export interface DemoSummary {
  readonly runsProduced: number;
  readonly rules: readonly DemoRule[];
  readonly recorded: RecordedFigures;
  readonly received: ReceivedFigures;
  readonly drainMs: number;
}

export async function recordedFigures(db: Database, ruleIds: readonly string[]): Promise<RecordedFigures> {
  const ids = [...ruleIds];
  const windows = await db.query(sql`
    SELECT rule_id, count(*)::int AS windows, coalesce(sum(run_count), 0)::int AS runs
    FROM delivery_windows WHERE rule_id = ANY(${ids}::uuid[]) GROUP BY rule_id`);
  const deliveries = await db.query(sql`
    SELECT rule_id, status, count(*)::int AS n
    FROM deliveries WHERE rule_id = ANY(${ids}::uuid[]) GROUP BY rule_id, status`);
  const attempts = await db.query(sql`
    SELECT coalesce(a.outcome, 'interrupted') AS outcome, count(*)::int AS n
    FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
    WHERE d.rule_id = ANY(${ids}::uuid[]) GROUP BY 1 ORDER BY 1`);
  const rules = new Map(
    ruleIds.map((id) => [id, { windows: 0, runs: 0, deliveries: 0, succeeded: 0, failed: 0, open: 0 }]),
  );
  for (const w of windows as { rule_id: string; windows: number; runs: number }[]) {
    const r = rules.get(w.rule_id)!;
    r.windows = w.windows;
    r.runs = w.runs;
  }
  for (const d of deliveries as { rule_id: string; status: string; n: number }[]) {
    const r = rules.get(d.rule_id)!;
    r.deliveries += d.n;
    if (d.status === "succeeded") r.succeeded += d.n;
    else if (d.status === "failed") r.failed += d.n;
    else r.open += d.n;
  }
  return {
    rules,
    attempts: Object.fromEntries((attempts as { outcome: string; n: number }[]).map((a) => [a.outcome, a.n])),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function receivedFigures(
  requests: readonly ReceivedRequest[],
  appendTimes: ReadonlyMap<string, number>,
): ReceivedFigures {
  const verified = requests.filter((r) => r.verified);
  // A delivery's first arrival: retries resend the same window later and must not count as latency.
  const firstArrival = new Map<string, ReceivedRequest>();
  for (const r of verified) {
    const seen = firstArrival.get(r.deliveryId);
    if (seen === undefined || r.arrivedAt < seen.arrivedAt) firstArrival.set(r.deliveryId, r);
  }
  const deliveriesByRule = new Map<string, number>();
  const runsByRule = new Map<string, Set<string>>();
  const latencies: number[] = [];
  for (const r of firstArrival.values()) {
    const rule = r.ruleId ?? "?";
    deliveriesByRule.set(rule, (deliveriesByRule.get(rule) ?? 0) + 1);
    const runs = runsByRule.get(rule) ?? new Set<string>();
    runsByRule.set(rule, runs);
    for (const id of r.runIds) {
      runs.add(id);
      const logTime = appendTimes.get(id);
      if (logTime !== undefined) latencies.push(r.arrivedAt - logTime);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    requests: requests.length,
    verified: verified.length,
    deliveriesByRule,
    runsByRule: new Map([...runsByRule].map(([k, v]) => [k, v.size])),
    latencyMs: {
      samples: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.length === 0 ? Number.NaN : latencies[latencies.length - 1]!,
    },
  };
}

const ms = (v: number) => (Number.isNaN(v) ? "-" : `${Math.round(v)} ms`);

/** The summary the demo prints: one row per rule, then deliveries, attempts and latency. */
export function formatSummary(s: DemoSummary): string {
  const rows: string[][] = [
    ["RULE", "WINDOW", "MATCHED", "WINDOWS", "DELIVERIES", "RECEIVED RUNS", "RECEIVED DELIVERIES"],
  ];
  let totals = { matched: 0, windows: 0, deliveries: 0, runs: 0, received: 0 };
  for (const rule of s.rules) {
    const rec = s.recorded.rules.get(rule.id) ?? { windows: 0, runs: 0, deliveries: 0 };
    const runs = s.received.runsByRule.get(rule.id) ?? 0;
    const received = s.received.deliveriesByRule.get(rule.id) ?? 0;
    rows.push([
      rule.name,
      `${rule.windowSeconds} s`,
      String(rec.runs),
      String(rec.windows),
      String(rec.deliveries),
      String(runs),
      String(received),
    ]);
    totals = {
      matched: totals.matched + rec.runs,
      windows: totals.windows + rec.windows,
      deliveries: totals.deliveries + rec.deliveries,
      runs: totals.runs + runs,
      received: totals.received + received,
    };
  }
  rows.push([
    "total",
    "",
    String(totals.matched),
    String(totals.windows),
    String(totals.deliveries),
    String(totals.runs),
    String(totals.received),
  ]);
  const attempts = Object.entries(s.recorded.attempts)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(", ");
  const statuses = [...s.recorded.rules.values()].reduce(
    (a, r) => ({ succeeded: a.succeeded + r.succeeded, failed: a.failed + r.failed, open: a.open + r.open }),
    { succeeded: 0, failed: 0, open: 0 },
  );
  const l = s.received.latencyMs;
  return [
    `runs produced        ${s.runsProduced}`,
    "",
    tableRightAligned(rows, new Set([2, 3, 4, 5, 6])),
    "",
    `deliveries           ${statuses.succeeded} succeeded, ${statuses.failed} failed${statuses.open > 0 ? `, ${statuses.open} still open` : ""}  (Postgres)`,
    `attempts by outcome  ${attempts || "none"}  (Postgres)`,
    `receiver             ${s.received.requests} requests, ${s.received.verified} with a valid signature`,
    `run → webhook        p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)}  (${l.samples} runs; Kafka append time → arrival at the receiver)`,
    `drained in           ${(s.drainMs / 1000).toFixed(1)} s after the last run was produced`,
  ].join("\n");
}
