import { randomBytes, randomUUID } from "node:crypto";
import { startApi, type RunningApi } from "@runhooks/api";
import { WebhookPayload } from "@runhooks/contracts";
import { startDelivery, type Delivery } from "@runhooks/delivery";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually } from "../services/delivery/test/harness.js";
import { reply, startReceiver, type Receiver } from "../services/delivery/test/receiver.js";
import { createTestDatabase, testKafka, uniquePrefix, type TestDatabase, TEST_SECRETS } from "./support/stack.js";

/**
 * A hostile tenant cannot slow another one down. Tenant A saves the worst filters the validator still
 * admits and sends runs they match, with big arrays; tenant B's runs meanwhile flow to B's webhook (a
 * real HTTP receiver) through the real API (relay), evaluator and delivery, all in this process.
 * Decided by events: every one of B's runs arrives, in windows each delivered within 5 s of its end;
 * A's errors are visible to A through the API (and to nobody else); the heap stays under 512 MiB.
 */

/*
 * The classic bombs (a reduce merging the accumulator with itself; `some` nested 3–5 deep over
 * 600-element literals) are refused by the validator's static cost bound. These are the closest it
 * admits: the bound assumes 16 elements for an array read from the run, and A's runs carry 5,000, so
 * every evaluation runs into the per-evaluation step budget (verdict "error") — ~10 ms each.
 */
const ARR_600 = Array.from({ length: 600 }, (_, i) => i);
const REFUSED_BOMBS = [
  {
    "==": [
      { reduce: [{ var: "inputs.arr" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, [1]] },
      "nope",
    ],
  },
  { some: [ARR_600, { some: [ARR_600, { some: [ARR_600, { "==": [{ var: "" }, { var: "name" }] }] }] }] },
];
/** `some` over the run's array, nested `some` over a 600-element literal: 3 million iterations. */
const SOME_BOMB = { some: [{ var: "inputs.big" }, { some: [ARR_600, { "==": [{ var: "" }, -1] }] }] };
/** A reduce concatenating every element onto the accumulator: quadratic copying. */
const CAT_BOMB = {
  "==": [{ reduce: [{ var: "inputs.big" }, { cat: [{ var: "accumulator" }, { var: "current" }] }, ""] }, "nope"],
};

const B_WINDOW_SECONDS = 5;
/** The acceptance criterion: a window arrives within this long after its end. */
const MAX_ARRIVAL_AFTER_END_MS = 5000;
const HEAP_LIMIT = 512 * 1024 * 1024;
const ROUNDS = 20;
const ROUND_MS = 500;
const A_RUNS_PER_ROUND = 10;
const B_RUNS_PER_ROUND = 3;

describe("a hostile tenant", () => {
  const prefix = uniquePrefix("hostile");
  const topics = topicNames(prefix);
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const signingSecret = `whsec_${randomBytes(24).toString("base64")}`;
  let database: TestDatabase;
  let api: RunningApi;
  let evaluator: Evaluator;
  let delivery: Delivery;
  let webhook: Receiver;
  let producer: Producer;
  const heap: number[] = [];
  let sampler: NodeJS.Timeout | undefined;

  async function call(
    method: string,
    path: string,
    key: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { "x-api-key": key, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function tenant(name: string): Promise<{ id: string; key: string }> {
    const created = await call("POST", "/admin/tenants", adminKey, { name });
    expect(created.status).toBe(201);
    const body = created.body as { tenant: { id: string }; api_key: { key: string } };
    return { id: body.tenant.id, key: body.api_key.key };
  }

  async function rule(key: string, filter: unknown, url: string): Promise<string> {
    const created = await call("POST", "/rules", key, {
      display_name: "hostile-tenant test",
      filter,
      sampling_rate: 1,
      window: { seconds: B_WINDOW_SECONDS, max_runs: 1000 },
      webhooks: [{ url, signing_secret: signingSecret }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return (created.body as { rule: { id: string } }).rule.id;
  }

  beforeAll(async () => {
    const kafka = testKafka("hostile");
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 2, deliveryPartitions: 2 }));
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    database = await createTestDatabase("hostile");
    webhook = await startReceiver(reply(200, "ok"), { secret: signingSecret });
    api = await startApi({
      secrets: TEST_SECRETS,
      databaseUrl: database.url,
      kafkaBrokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      port: 0,
      adminKey,
      relay: { pollIntervalMs: 100, retryDelayMs: 200 },
      ruleErrors: { groupId: `${prefix}-api-rule-errors` },
    });
    const quiet = () => undefined;
    evaluator = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      groupId: `${prefix}-evaluator`,
      instanceId: "hostile-evaluator",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      sessionTimeoutMs: 6000,
      log: quiet,
    });
    delivery = await startDelivery({
      secrets: TEST_SECRETS,
      brokers: inject("kafkaBrokers"),
      databaseUrl: database.url,
      topicPrefix: prefix,
      groupId: `${prefix}-delivery`,
      instanceId: "hostile-delivery",
      sessionTimeoutMs: 6000,
      allowCidrs: ["127.0.0.1/32"],
      pollMs: 50,
      dbPoolSize: 4,
      migrate: false,
      log: quiet,
    });
    sampler = setInterval(() => heap.push(process.memoryUsage().heapUsed), 100);
  });

  afterAll(async () => {
    if (sampler) clearInterval(sampler);
    await delivery?.stop();
    await evaluator?.stop();
    await api?.close();
    await producer?.disconnect();
    await webhook?.close();
    await database?.drop();
  });

  it(
    "slows no other tenant: B's windows all arrive within 5 s of their end; A sees its errors",
    { timeout: 180_000 },
    async () => {
      const a = await tenant("hostile");
      const b = await tenant("bystander");
      for (const filter of REFUSED_BOMBS) {
        const refused = await call("POST", "/rules", a.key, {
          display_name: "bomb",
          filter,
          window: { seconds: 5 },
          webhooks: [{ url: `${webhook.url}/a` }],
        });
        expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      }
      const bombs = [await rule(a.key, CAT_BOMB, `${webhook.url}/a`), await rule(a.key, SOME_BOMB, `${webhook.url}/a`)];
      const bRule = await rule(b.key, { "==": [{ var: "name" }, "b-run"] }, `${webhook.url}/b`);
      // Runs are judged by the versions in force at their log time: wait until the relay published all.
      await eventually("the rules in force", async () => {
        for (const id of [...bombs, bRule]) {
          const r = await call("GET", `/rules/${id}`, id === bRule ? b.key : a.key);
          if ((r.body as { effective_from?: string | null }).effective_from == null) return false;
        }
        return true;
      });

      const now = () => new Date().toISOString();
      const run = (tenantId: string, name: string, inputs: Record<string, unknown>) => {
        const id = randomUUID();
        return {
          id,
          trace_id: id,
          name,
          run_type: "llm",
          status: "success",
          start_time: now(),
          end_time: now(),
          tenant_id: tenantId,
          inputs,
        };
      };
      const bSent: string[] = [];
      let aSent = 0;
      const big = Array.from({ length: 5000 }, (_, i) => `item-${i}`);
      for (let round = 0; round < ROUNDS; round++) {
        const aRuns = Array.from({ length: A_RUNS_PER_ROUND }, () => run(a.id, "a-run", { big }));
        const bRuns = Array.from({ length: B_RUNS_PER_ROUND }, () => run(b.id, "b-run", { prompt: "hello" }));
        bSent.push(...bRuns.map((r) => r.id));
        aSent += aRuns.length;
        await producer.send({
          topic: topics.runs,
          acks: -1,
          messages: [...aRuns, ...bRuns].map((r) => ({ key: r.trace_id, value: JSON.stringify(r) })),
        });
        await new Promise((r) => setTimeout(r, ROUND_MS));
      }

      const bReceived = () => webhook.received.filter((r) => r.url === "/b");
      const runsOf = () =>
        bReceived().flatMap((r) => WebhookPayload.parse(JSON.parse(r.body.toString())).runs.map((x) => x.id));
      await eventually("every run of B at its webhook", () => new Set(runsOf()).size === bSent.length, 90_000);

      const windows = bReceived().map((r) => {
        const payload = WebhookPayload.parse(JSON.parse(r.body.toString()));
        return {
          end: Date.parse(payload.end_time),
          afterEnd: r.at - Date.parse(payload.end_time),
          runs: payload.runs.length,
          verified: r.verified,
        };
      });
      console.log(
        `[hostile-tenant] B: ${windows.length} windows, ${bSent.length} runs; arrival after window end (ms): ` +
          windows
            .map((w) => w.afterEnd)
            .sort((x, y) => x - y)
            .join(", "),
      );
      expect(runsOf().sort()).toEqual([...bSent].sort());
      for (const w of windows) {
        expect(w.verified).toBe(true);
        expect(w.afterEnd, `a window of B arrived ${w.afterEnd} ms after its end`).toBeLessThanOrEqual(
          MAX_ARRIVAL_AFTER_END_MS,
        );
      }
      expect(webhook.received.filter((r) => r.url === "/a")).toEqual([]);

      // A's errors: every run of A counted once per bomb, visible to A, and to nobody else.
      for (const id of bombs) {
        await eventually(
          `the errors of rule ${id}`,
          async () => {
            const r = await call("GET", `/rules/${id}/errors`, a.key);
            const versions = r.body["versions"] as { errors: number }[] | undefined;
            return versions?.[0]?.errors === aSent;
          },
          60_000,
        );
        const errors = await call("GET", `/rules/${id}/errors`, a.key);
        const samples = errors.body["samples"] as { error: string; run_id: string }[];
        expect(samples.length).toBeGreaterThan(0);
        expect(samples[0]!.error.length).toBeGreaterThan(0);
        expect((await call("GET", `/rules/${id}/errors`, b.key)).status).toBe(404);
      }
      expect(evaluator.counters.ruleErrors).toBe(2 * aSent);
      expect(evaluator.counters.deadLettered).toEqual({});

      const maxHeap = Math.max(...heap);
      console.log(
        `[hostile-tenant] heap (whole test process: API, evaluator, delivery): max ${(maxHeap / 2 ** 20).toFixed(0)} MiB over ${heap.length} samples`,
      );
      expect(maxHeap).toBeLessThan(HEAP_LIMIT);
    },
  );
});
