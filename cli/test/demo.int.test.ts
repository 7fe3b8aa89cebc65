import { randomBytes } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli, runDemo, progressOn, type DemoResult } from "@runhooks/cli";
import { Run } from "@runhooks/contracts";
import { sql } from "@runhooks/db";
import { readInfraEnv, startEngine } from "@runhooks/infra";
import { compileFilter, runFacts, sampled, type JsonLogicExpression } from "@runhooks/rules";
import { createTestDatabase, uniquePrefix, type TestDatabase } from "../../test/support/stack.js";

const examples = fileURLToPath(new URL("../../examples/rules/", import.meta.url));

let database: TestDatabase;
let result: DemoResult;

beforeAll(async () => {
  database = await createTestDatabase("demo");
  const prefix = uniquePrefix("demo");
  result = await runDemo({
    infraEnv: readInfraEnv({
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      DATABASE_URL: database.url,
      RUNHOOKS_TOPIC_PREFIX: prefix,
      RUNHOOKS_RUNS_PARTITIONS: "3",
    }),
    processEnv: {
      RUNHOOKS_EVALUATOR_GROUP: `${prefix}-evaluator`,
      RUNHOOKS_DELIVERY_GROUP: `${prefix}-delivery`,
      RUNHOOKS_ADMIN_KEY: `rhadm_${randomBytes(16).toString("hex")}`,
      RUNHOOKS_LOG_LEVEL: "error",
    },
    runs: 1000,
    seed: 7,
    rate: 1000,
    drainTimeoutMs: 90_000,
    say: () => undefined,
    progress: () => progressOn(() => undefined, { errIsTty: false, color: false }),
  });
}, 180_000);

afterAll(async () => {
  await database?.drop();
});

/** The example rules by display name: filter and sampling rate, read from the files themselves. */
async function exampleRules(): Promise<Map<string, { filter: JsonLogicExpression; sampling_rate: number }>> {
  const rules = new Map<string, { filter: JsonLogicExpression; sampling_rate: number }>();
  for (const name of (await readdir(examples)).filter((n) => n.endsWith(".json"))) {
    const rule = JSON.parse(await readFile(join(examples, name), "utf8")) as {
      display_name: string;
      filter: JsonLogicExpression;
      sampling_rate: number;
    };
    rules.set(rule.display_name, rule);
  }
  return rules;
}

describe("runhooks demo", () => {
  it("drains: every window closed, stored and delivered before the timeout", () => {
    expect(result.drained).toBe(true);
    expect(result.summary.runsProduced).toBe(result.runs.length);
    expect(result.appendTimes.size).toBe(result.runs.length);
  });

  it("matched per rule is what the rules' filters and sampling select from the generated runs", async () => {
    const byName = await exampleRules();
    for (const rule of result.rules) {
      const example = byName.get(rule.name)!;
      const filter = compileFilter(example.filter);
      const expected = result.runs.filter((raw) => {
        const run = Run.parse(JSON.parse(JSON.stringify(raw)));
        return (
          run.tenant_id === result.tenantId &&
          run.end_time != null &&
          filter(runFacts(run)) &&
          sampled(rule.id, run.id, example.sampling_rate)
        );
      }).length;
      expect(expected, rule.name).toBeGreaterThan(0);
      expect(result.summary.recorded.rules.get(rule.id)?.runs, rule.name).toBe(expected);
    }
  });

  it("its Postgres figures are what Postgres recorded", async () => {
    const ids = result.rules.map((r) => r.id);
    const windows = (await database.db.query(sql`
      SELECT rule_id, window_id, run_count, payload FROM delivery_windows WHERE rule_id = ANY(${ids}::uuid[])`)) as {
      rule_id: string;
      window_id: string;
      run_count: number;
      payload: string;
    }[];
    const deliveries = (await database.db.query(sql`
      SELECT id, rule_id, status FROM deliveries WHERE rule_id = ANY(${ids}::uuid[])`)) as {
      id: string;
      rule_id: string;
      status: string;
    }[];
    const attempts = (await database.db.query(sql`
      SELECT a.delivery_id, a.attempt, a.outcome FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
      WHERE d.rule_id = ANY(${ids}::uuid[])`)) as { delivery_id: string; attempt: number; outcome: string | null }[];

    for (const rule of result.rules) {
      const figures = result.summary.recorded.rules.get(rule.id)!;
      const own = windows.filter((w) => w.rule_id === rule.id);
      expect(figures.windows, rule.name).toBe(own.length);
      expect(figures.runs, rule.name).toBe(own.reduce((n, w) => n + w.run_count, 0));
      expect(figures.deliveries, rule.name).toBe(deliveries.filter((d) => d.rule_id === rule.id).length);
      expect(figures.succeeded, rule.name).toBe(
        deliveries.filter((d) => d.rule_id === rule.id && d.status === "succeeded").length,
      );
    }
    const outcomes: Record<string, number> = {};
    for (const a of attempts) outcomes[a.outcome ?? "interrupted"] = (outcomes[a.outcome ?? "interrupted"] ?? 0) + 1;
    expect(result.summary.recorded.attempts).toEqual(outcomes);
    // The demo's receiver answers 503 to some first attempts: the summary shows the retries.
    expect(outcomes["http_5xx"]).toBeGreaterThan(0);
    expect(outcomes["success"]).toBe(deliveries.length);

    // What the receiver got agrees with Postgres: one request per recorded attempt, every succeeded
    // delivery received, each window's runs exactly those the payload stored in Postgres holds.
    expect(result.received.length).toBe(attempts.length);
    expect(result.received.filter((r) => r.status === 503).length).toBe(outcomes["http_5xx"]);
    const receivedIds = new Set(result.received.map((r) => r.deliveryId));
    expect(deliveries.filter((d) => d.status === "succeeded").every((d) => receivedIds.has(d.id))).toBe(true);
    for (const rule of result.rules) {
      const stored = new Set(
        windows
          .filter((w) => w.rule_id === rule.id)
          .flatMap((w) => (JSON.parse(w.payload) as { runs: { id: string }[] }).runs.map((r) => r.id)),
      );
      const got = new Set(result.received.filter((r) => r.ruleId === rule.id).flatMap((r) => r.runIds));
      expect([...got].sort(), rule.name).toEqual([...stored].sort());
    }
  });

  it("its receiver figures are what the receiver got", () => {
    const got = result.received;
    expect(result.summary.received.requests).toBe(got.length);
    expect(result.summary.received.verified).toBe(got.filter((r) => r.verified).length);
    expect(got.every((r) => r.verified)).toBe(true);
    for (const rule of result.rules) {
      const own = got.filter((r) => r.ruleId === rule.id);
      expect(result.summary.received.deliveriesByRule.get(rule.id) ?? 0, rule.name).toBe(
        new Set(own.map((r) => r.deliveryId)).size,
      );
      expect(result.summary.received.runsByRule.get(rule.id) ?? 0, rule.name).toBe(
        new Set(own.flatMap((r) => r.runIds)).size,
      );
    }
    // One latency sample per run of each delivered window: each window here has one webhook.
    const runsInWindows = [...result.summary.recorded.rules.values()].reduce((n, r) => n + r.runs, 0);
    expect(result.summary.received.latencyMs.samples).toBe(runsInWindows);
    expect(result.table).toContain(`runs produced        ${result.runs.length}`);
  });
});

describe("runhooks deliveries, on what the demo delivered", () => {
  it("lists a rule's deliveries, shows one with its attempts, and redelivers it", async () => {
    const prefix = uniquePrefix("demo-api");
    const engine = await startEngine(
      readInfraEnv({
        KAFKA_BROKERS: inject("kafkaBrokers").join(","),
        DATABASE_URL: database.url,
        RUNHOOKS_TOPIC_PREFIX: prefix,
      }),
      ["api"],
      () => undefined,
      {
        RUNHOOKS_API_PORT: "0",
        RUNHOOKS_API_RELAY: "false",
        RUNHOOKS_ADMIN_KEY: `rhadm_${randomBytes(16).toString("hex")}`,
      },
    );
    try {
      const cli = async (args: string[]) => {
        let out = "";
        let err = "";
        const code = await runCli(args, {
          out: (t) => (out += t),
          err: (t) => (err += t),
          env: { RUNHOOKS_API_URL: engine.services[0]!.url, RUNHOOKS_API_KEY: result.apiKey },
          cwd: process.cwd(),
        });
        return { code, out, err };
      };
      // A delivery whose first attempt the receiver refused (503) and whose retry succeeded.
      const retried = result.received.find((r) => r.status === 503)!;
      const listed = await cli(["deliveries", "list", "--rule", retried.ruleId!]);
      expect(listed.code).toBe(0);
      expect(listed.out).toContain(retried.deliveryId);
      expect(listed.out.split("\n")[0]).toMatch(/^ID\s+RULE\s+STATUS/);

      const shown = await cli(["deliveries", "show", retried.deliveryId]);
      expect(shown.code).toBe(0);
      expect(shown.out).toMatch(/\n1\s+scheduled\s+\S+\s+\d+\s+http_5xx\s+503/);
      expect(shown.out).toMatch(/\n2\s+scheduled\s+\S+\s+\d+\s+success\s+204/);

      const again = await cli(["deliveries", "redeliver", retried.deliveryId]);
      expect(again.code).toBe(0);
      expect(again.out).toContain(`redelivery of ${retried.deliveryId} queued`);
      const [row] = (await database.db.query(
        sql`SELECT status, next_trigger FROM deliveries WHERE id = ${retried.deliveryId}`,
      )) as {
        status: string;
        next_trigger: string;
      }[];
      expect(row).toEqual({ status: "pending", next_trigger: "manual" });
      // Not finished now: a second redelivery is refused, saying where to look.
      const refused = await cli(["deliveries", "redeliver", retried.deliveryId]);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`runhooks deliveries show ${retried.deliveryId}`);
      const missing = await cli(["deliveries", "show", "00000000-0000-4000-8000-000000000000"]);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain("no delivery 00000000-0000-4000-8000-000000000000 in your tenant");
    } finally {
      await engine.stop();
    }
  });
});
