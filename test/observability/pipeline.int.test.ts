import { randomBytes, randomUUID } from "node:crypto";
import { Rule, RuleVersion, WebhookPayload, type Run } from "@runhooks/contracts";
import { createTenant, migrate, pendingOutbox, saveRule } from "@runhooks/db";
import { startDelivery, type Delivery } from "@runhooks/delivery";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import { mergedWindowId, windowId } from "@runhooks/rules";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { createTelemetry, otelConfigFromEnv, sendTraced, type Telemetry } from "@runhooks/telemetry";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually } from "../../services/delivery/test/harness.js";
import { reply, startReceiver, type Receiver } from "../../services/delivery/test/receiver.js";
import { KIND, attr, startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { createTestDatabase, testKafka, uniquePrefix, type TestDatabase, TEST_SECRETS } from "../support/stack.js";

/**
 * Issue #6's acceptance: runs produced with the telemetry helper go through the real evaluator and
 * delivery (in this process, each with its own telemetry exporting OTLP/HTTP to a receiver in the test)
 * to a real webhook receiver. The webhook's traceparent must lead to one trace covering produce →
 * evaluate → window publish → delivery attempt → HTTP client, with the links; no exported byte may
 * hold a webhook secret; and each service's /metrics must show the issue's metrics after the traffic.
 */
describe("one trace from produce to webhook, and metrics", () => {
  const prefix = uniquePrefix("obs");
  const topics = topicNames(prefix);
  const querySecret = `qs${randomBytes(12).toString("hex")}`;
  const headerSecret = `hv${randomBytes(12).toString("hex")}`;
  const signingSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const signingKeyText = signingSecret.slice("whsec_".length);
  const logs: string[] = [];
  let otlp: OtlpReceiver;
  let webhook: Receiver;
  let database: TestDatabase;
  let producer: Producer;
  let producerTelemetry: Telemetry;
  let evaluator: Evaluator;
  let delivery: Delivery;
  let ruleId: string;
  const runs: Run[] = [];

  function run(tenantId: string, patch: Partial<Run> = {}): Run {
    const id = randomUUID();
    const now = Date.now();
    return {
      id,
      trace_id: id,
      name: "ChatOpenAI",
      run_type: "llm",
      status: "error",
      start_time: new Date(now - 1000).toISOString(),
      end_time: new Date(now).toISOString(),
      tenant_id: tenantId,
      session_id: null,
      ...patch,
    };
  }

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    webhook = await startReceiver(reply(200, "ok"), { secret: signingSecret });
    const kafka = testKafka("obs");
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 1, deliveryPartitions: 1 }));
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();

    database = await createTestDatabase("obs");
    await migrate(database.db);
    const tenant = await createTenant(database.db, { name: "obs" });
    if (!tenant.ok) throw new Error("could not create the tenant");
    const tenantId = tenant.tenant.id;
    const rule = Rule.parse({
      tenant_id: tenantId,
      id: randomUUID(),
      display_name: "obs errors",
      filter: { "==": [{ var: "status" }, "error"] },
      window: { seconds: 60, max_runs: 2 },
      webhooks: [
        {
          url: `${webhook.url}/hook?secret=${querySecret}`,
          headers: { "x-team-key": headerSecret },
          signing_secret: signingSecret,
        },
      ],
    });
    ruleId = rule.id;
    const saved = await saveRule(database.db, { tenantId, rule, mode: "create" });
    if (!saved.ok) throw new Error(`could not save the rule: ${saved.reason}`);
    // What the relay would publish: the outbox's RuleVersion message (no webhooks, no secrets).
    const [entry] = await pendingOutbox(database.db, 10);
    await producer.send({
      topic: topics.rules,
      acks: -1,
      messages: [{ key: ruleId, value: JSON.stringify(RuleVersion.parse(entry!.payload)) }],
    });

    const otel = otelConfigFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_METRIC_EXPORT_INTERVAL: "500",
    });
    const log = (level: string, message: string, fields?: Record<string, unknown>) =>
      logs.push(JSON.stringify({ level, message, ...fields }));
    evaluator = await startEvaluator({
      brokers: inject("kafkaBrokers"),
      topicPrefix: prefix,
      groupId: `${prefix}-evaluator`,
      instanceId: "obs-evaluator",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      sessionTimeoutMs: 6000,
      http: { host: "127.0.0.1", port: 0 },
      log,
      otel,
    });
    delivery = await startDelivery({
      secrets: TEST_SECRETS,
      brokers: inject("kafkaBrokers"),
      databaseUrl: database.url,
      topicPrefix: prefix,
      groupId: `${prefix}-delivery`,
      instanceId: "obs-delivery",
      sessionTimeoutMs: 6000,
      allowCidrs: ["127.0.0.1/32"],
      pollMs: 50,
      dbPoolSize: 4,
      migrate: false,
      http: { host: "127.0.0.1", port: 0 },
      log,
      otel,
    });

    // The traffic: two matching runs (one window of max_runs 2), a run not ended, a run no rule
    // matches, and a message that is not JSON.
    producerTelemetry = createTelemetry(otel, { name: "obs-producer", version: "test", instanceId: "obs-producer" });
    runs.push(run(tenantId), run(tenantId));
    const others = [run(tenantId, { end_time: null }), run(tenantId, { status: "success" })];
    await sendTraced(
      producerTelemetry,
      producer,
      {
        topic: topics.runs,
        acks: -1,
        messages: [...runs, ...others].map((r) => ({ key: r.trace_id ?? r.id, value: JSON.stringify(r) })),
      },
      { attributes: (m) => ({ "runhooks.run_id": (JSON.parse(String(m.value)) as Run).id }) },
    );
    await producer.send({ topic: topics.runs, acks: -1, messages: [{ key: "garbage", value: "{not json" }] });
    await producerTelemetry.flush();
    await eventually("the webhook", () => webhook.received.length >= 1, 60_000);
  });

  afterAll(async () => {
    await delivery?.stop();
    await evaluator?.stop();
    await producerTelemetry?.shutdown();
    await producer?.disconnect();
    await webhook?.close();
    await otlp?.close();
    await database?.drop();
  });

  it("follows the webhook's traceparent back to the runs, through the window and the attempt", async () => {
    const request = webhook.received[0]!;
    expect(request.verified).toBe(true);
    const traceparent = String(request.headers["traceparent"]);
    const [, traceId, httpSpanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent) ?? [];
    expect(traceId, traceparent).toBeDefined();

    const inTrace = () => otlp.spans.filter((s) => s.traceId === traceId);
    const named = (name: string) => inTrace().filter((s) => s.name === name);
    await eventually(
      "the attempt's spans",
      () => named("POST").length > 0 && named("deliver webhook").length > 0,
      30_000,
    );
    const byId = new Map(otlp.spans.map((s) => [s.spanId, s]));

    // The HTTP client span is the context the receiver got; its parent is the attempt.
    const http = named("POST")[0]!;
    expect(http.spanId).toBe(httpSpanId);
    expect(http.kind).toBe(KIND.client);
    expect(http.service).toBe("runhooks-delivery");
    const attempt = byId.get(http.parentSpanId!)!;
    expect(attempt.name).toBe("deliver webhook");
    expect(attr(attempt, "runhooks.attempt")).toBe(1);
    expect(attr(attempt, "runhooks.outcome")).toBe("success");
    expect(attr(attempt, "runhooks.rule_id")).toBe(ruleId);
    expect(attr(http, "http.response.status_code")).toBe(200);
    const deliveryId = String(attr(attempt, "runhooks.delivery_id"));
    expect(deliveryId).toBe(request.id);

    // The attempt is a child of the publish span of its window's (only) part, which is a child of the
    // first run's producer span and links to both runs' producer spans. The attempt names the merged
    // window, the publish span the part.
    const windowSpan = byId.get(attempt.parentSpanId!)!;
    expect(windowSpan.name).toBe(`publish ${topics.windows}`);
    expect(windowSpan.kind).toBe(KIND.producer);
    expect(windowSpan.service).toBe("runhooks-evaluator");
    expect(attr(windowSpan, "runhooks.rule_id")).toBe(ruleId);
    const startMs = Date.parse(WebhookPayload.parse(JSON.parse(request.body.toString())).start_time);
    expect(attr(attempt, "runhooks.window_id")).toBe(mergedWindowId({ ruleId, ruleVersion: 1, startMs, chunk: 0 }));
    expect(attr(windowSpan, "runhooks.window_id")).toBe(
      windowId({ ruleId, ruleVersion: 1, partition: 0, startMs, chunk: 0 }),
    );
    expect(attr(windowSpan, "runhooks.window.run_count")).toBe(2);
    expect(attr(windowSpan, "messaging.system")).toBe("kafka");

    const producerSpans = otlp.spans.filter(
      (s) => s.name === `publish ${topics.runs}` && runs.some((r) => attr(s, "runhooks.run_id") === r.id),
    );
    expect(producerSpans).toHaveLength(2);
    const first = producerSpans.find((s) => attr(s, "runhooks.run_id") === runs[0]!.id)!;
    expect(first.kind).toBe(KIND.producer);
    expect(first.service).toBe("obs-producer");
    expect(first.traceId).toBe(traceId);
    expect(windowSpan.parentSpanId).toBe(first.spanId);
    expect(windowSpan.links?.map((l) => `${l.traceId}/${l.spanId}`).sort()).toEqual(
      producerSpans.map((s) => `${s.traceId}/${s.spanId}`).sort(),
    );

    // Each run's evaluation: a consumer span, child of and linked to its producer span.
    await eventually(
      "the process spans",
      () => otlp.spans.filter((s) => s.name === `process ${topics.runs}`).length >= 5,
      30_000,
    );
    for (const p of producerSpans) {
      const processed = otlp.spans.find((s) => s.name === `process ${topics.runs}` && s.parentSpanId === p.spanId)!;
      expect(processed, "process span of a run").toBeDefined();
      expect(processed.kind).toBe(KIND.consumer);
      expect(processed.traceId).toBe(p.traceId);
      expect(processed.links?.map((l) => l.spanId)).toEqual([p.spanId]);
      expect(attr(processed, "runhooks.outcome")).toBe("matched");
      expect(attr(processed, "runhooks.rule_ids")).toEqual([ruleId]);
      expect(attr(processed, "messaging.destination.name")).toBe(topics.runs);
      expect(attr(processed, "messaging.destination.partition.id")).toBe("0");
      expect(typeof attr(processed, "messaging.kafka.offset")).toBe("number");
    }
    const outcomes = otlp.spans
      .filter((s) => s.name === `process ${topics.runs}`)
      .map((s) => attr(s, "runhooks.outcome"));
    expect(outcomes.sort()).toEqual(["dead_lettered", "matched", "matched", "not_ended", "not_matched"]);

    // The whole chain is one trace.
    const names = new Set(inTrace().map((s) => s.name));
    for (const name of [
      `publish ${topics.runs}`,
      `process ${topics.runs}`,
      `publish ${topics.windows}`,
      "deliver webhook",
      "POST",
    ])
      expect(names).toContain(name);
  });

  it("exports no secret in any span, attribute, link or resource", async () => {
    await eventually("some exports", () => otlp.bodies.length > 0);
    const everything = otlp.bodies.join("\n");
    expect(everything).toContain(ruleId);
    for (const secret of [querySecret, headerSecret, signingSecret, signingKeyText])
      expect(everything).not.toContain(secret);
    // The URL attribute is the redacted one.
    const http = otlp.spans.find((s) => s.name === "POST")!;
    expect(String(attr(http, "url.full"))).toContain("secret=***");
  });

  it("serves the issue's metrics on each service's /metrics after the traffic, and exports them over OTLP", async () => {
    await eventually("the delivery recorded", async () =>
      /runhooks_delivery_deliveries_total\{status="succeeded"\} 1/.test(await text(`${delivery.url!}/metrics`)),
    );
    const ev = await text(`${evaluator.url!}/metrics`);
    expect(value(ev, "runhooks_evaluator_runs_read_total")).toBe(5);
    expect(value(ev, "runhooks_evaluator_runs_matched_total")).toBe(2);
    expect(value(ev, 'runhooks_evaluator_runs_skipped_total{reason="not_ended"}')).toBe(1);
    expect(value(ev, 'runhooks_evaluator_dead_lettered_total{reason="invalid_json"}')).toBe(1);
    expect(value(ev, "runhooks_evaluator_windows_emitted_total")).toBe(1);
    expect(value(ev, `runhooks_evaluator_consumer_lag{topic="${topics.runs}",partition="0"}`)).toBe(0);

    const de = await text(`${delivery.url!}/metrics`);
    expect(value(de, 'runhooks_delivery_deliveries_total{status="succeeded"}')).toBe(1);
    expect(value(de, 'runhooks_delivery_deliveries_total{status="failed"}')).toBe(0);
    expect(value(de, 'runhooks_delivery_attempts_total{outcome="success"}')).toBe(1);
    expect(value(de, 'runhooks_delivery_attempt_duration_seconds_count{outcome="success"}')).toBe(1);
    const duration = value(de, 'runhooks_delivery_attempt_duration_seconds_sum{outcome="success"}')!;
    expect(duration).toBeGreaterThan(0);
    expect(duration).toBeLessThan(5);
    expect(value(de, "runhooks_delivery_end_to_end_latency_seconds_count")).toBe(1);
    // From the window's start (at most its 60 s before the runs) to the webhook.
    const e2e = value(de, "runhooks_delivery_end_to_end_latency_seconds_sum")!;
    expect(e2e).toBeGreaterThan(0);
    expect(e2e).toBeLessThan(120);
    expect(value(de, `runhooks_delivery_consumer_lag{topic="${topics.windows}",partition="0"}`)).toBe(0);

    await eventually(
      "metrics over OTLP",
      () =>
        (otlp.metrics.get("runhooks-delivery")?.has("runhooks.delivery.attempt_duration_seconds") ?? false) &&
        (otlp.metrics.get("runhooks-evaluator")?.has("runhooks.evaluator.runs_read") ?? false),
    );
  });
});

async function text(url: string): Promise<string> {
  return (await fetch(url)).text();
}

/** The value of one series line (`name{labels} value`), or undefined when absent. */
function value(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
