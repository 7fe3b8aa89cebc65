/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   the JSON answers of the API under test; the assertions are what check their shape. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuleError } from "@runhooks/contracts";
import { topicNames } from "@runhooks/kafka";
import type { Producer } from "kafkajs";
import { testKafka } from "../../../test/support/stack.js";
import { startTestApi, type TestApi } from "./support/api-harness.js";

const SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

let api: TestApi;
let producer: Producer;
let a: { tenantId: string; key: string };
let b: { tenantId: string; key: string };

beforeAll(async () => {
  api = await startTestApi("rule-errors");
  a = await api.newTenant("tenant a");
  b = await api.newTenant("tenant b");
  producer = testKafka("rule-errors-test").producer();
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  await api?.close();
});

async function newRule(key: string): Promise<string> {
  const created = await api.call("POST", "/rules", {
    key,
    body: {
      display_name: "poison",
      filter: { "==": [{ var: "name" }, "x"] },
      sampling_rate: 1,
      window: { seconds: 5, max_runs: 100 },
      webhooks: [{ url: "https://hooks.example.com/in?secret=s3cr3t-in-url", signing_secret: SIGNING_SECRET }],
    },
  });
  expect(created.status).toBe(201);
  return created.body.rule.id as string;
}

function record(tenantId: string, ruleId: string, patch: Partial<RuleError> = {}): RuleError {
  return {
    schema_version: 1,
    tenant_id: tenantId,
    rule_id: ruleId,
    rule_version: 1,
    run_id: randomUUID(),
    log_time: new Date().toISOString(),
    error: "the filter ran out of its evaluation budget",
    count: 1,
    ...patch,
  };
}

async function publish(values: readonly (RuleError | string)[]): Promise<void> {
  await producer.send({
    topic: topicNames(api.topicPrefix).ruleErrors,
    acks: -1,
    messages: values.map((v) => ({
      key: typeof v === "string" ? "x" : v.rule_id,
      value: typeof v === "string" ? v : JSON.stringify(v),
    })),
  });
}

/** Polls the API until `check` holds for the answer (the consumer stores records asynchronously). */
async function errorsWhen(ruleId: string, key: string, check: (body: any) => boolean, query = ""): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await api.call("GET", `/rules/${ruleId}/errors${query}`, { key });
    if (answer.status === 200 && check(answer.body)) return answer.body;
    if (Date.now() > deadline) throw new Error(`timed out; last answer ${answer.status} ${answer.text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("GET /rules/:id/errors", () => {
  it("shows the owning tenant counts per version and the latest samples, each record once", async () => {
    const ruleId = await newRule(a.key);
    const empty = await api.call("GET", `/rules/${ruleId}/errors`, { key: a.key });
    expect(empty).toMatchObject({ status: 200, body: { rule_id: ruleId, versions: [], samples: [] } });

    const first = record(a.tenantId, ruleId, { count: 40, log_time: "2026-01-01T00:00:01.000Z" });
    const second = record(a.tenantId, ruleId, { count: 2, log_time: "2026-01-01T00:00:02.000Z" });
    const v2 = record(a.tenantId, ruleId, {
      rule_version: 2,
      count: 5,
      log_time: "2026-01-01T00:00:03.000Z",
      error: "v2 failed",
    });
    // A re-published record (an evaluator that died before committing) and garbage on the topic.
    await publish([first, "{not json", second, first, v2]);
    // The marker is published last; once it is stored, everything before it on its partition is too.
    const marker = record(a.tenantId, ruleId, { rule_version: 3, count: 1, log_time: "2026-01-01T00:00:04.000Z" });
    await publish([marker]);

    const body = await errorsWhen(ruleId, a.key, (x) => x.versions.length === 3 && x.versions[0].errors === 42);
    expect(body.versions).toEqual([
      { version: 1, errors: 42, first_at: first.log_time, last_at: second.log_time },
      { version: 2, errors: 5, first_at: v2.log_time, last_at: v2.log_time },
      { version: 3, errors: 1, first_at: marker.log_time, last_at: marker.log_time },
    ]);
    expect(body.samples.map((s: any) => s.run_id)).toEqual([marker.run_id, v2.run_id, second.run_id, first.run_id]);
    expect(body.samples[1]).toEqual({
      version: 2,
      run_id: v2.run_id,
      log_time: v2.log_time,
      error: "v2 failed",
      count: 5,
    });

    const limited = await api.call("GET", `/rules/${ruleId}/errors?limit=1`, { key: a.key });
    expect(limited.body.samples).toHaveLength(1);
    const bad = await api.call("GET", `/rules/${ruleId}/errors?limit=1000`, { key: a.key });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/from 1 to 100/);
    // Nothing of the rule's secrets is in the answers.
    expect(api.answers.join("\n")).not.toMatch(/s3cr3t-in-url|MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/);
  });

  it("answers 404 to another tenant, and to an unknown rule", async () => {
    const ruleId = await newRule(a.key);
    await publish([record(a.tenantId, ruleId)]);
    await errorsWhen(ruleId, a.key, (x) => x.versions.length === 1);
    const other = await api.call("GET", `/rules/${ruleId}/errors`, { key: b.key });
    expect(other.status).toBe(404);
    expect(other.body.error).toBe("not_found");
    expect((await api.call("GET", `/rules/${randomUUID()}/errors`, { key: a.key })).status).toBe(404);
    expect((await api.call("GET", `/rules/${ruleId}/errors`)).status).toBe(401);
  });
});
