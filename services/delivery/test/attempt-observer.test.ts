import { OTEL_OFF, createTelemetry } from "@runhooks/telemetry";
import { describe, expect, it } from "vitest";
import { createAttemptObserver, windowStartMs } from "../src/attempt-observer.js";
import { registerDeliveryMetrics } from "../src/metrics.js";
import { createCounters } from "../src/counters.js";

describe("attempt observer", () => {
  it("reads a window's start from the webhook body's head", () => {
    const body = Buffer.from(
      '{"rule_id":"r","start_time":"2026-01-02T03:04:05.000Z","end_time":"2026-01-02T03:04:10.000Z","runs":[]}',
    );
    expect(windowStartMs(body)).toBe(Date.parse("2026-01-02T03:04:05.000Z"));
    expect(windowStartMs(Buffer.from('{"rule_id":"r"}'))).toBeUndefined();
  });

  it("with tracing off sends no span context of its own, and still records the histograms", async () => {
    const t = createTelemetry(OTEL_OFF, { name: "runhooks-delivery", version: "test", instanceId: "t" });
    const gauges = {
      attemptsInFlight: () => 0,
      attemptsUnrecorded: () => 0,
      attemptsUnpublished: () => 0,
      payloadCacheBytes: () => 0,
    };
    const observer = createAttemptObserver(
      t,
      registerDeliveryMetrics(t.meter, createCounters(), gauges, { observations: () => [] }),
    );
    const d = {
      id: "3f1b0a52-6c57-5b7e-9d7b-2f1d3b9a1c01",
      windowId: "w",
      webhookId: "h",
      tenantId: "t",
      ruleId: "r",
      ruleVersion: 1,
      url: "http://127.0.0.1/hook?secret=***",
      origin: "http://127.0.0.1",
      traceId: "0af7651916cd43dd8448eb211c80319c",
      attempt: 1,
      roundAttempt: 1,
      trigger: "scheduled" as const,
    };
    const target = {
      webhookId: "h",
      origin: d.origin,
      path: "/hook",
      redactedUrl: d.url,
      headers: {},
      signingKey: undefined,
      secrets: [],
    };
    const observed = observer.start(d, target);
    expect(observed.traceparent).toBeUndefined();
    const start = new Date(Date.now() - 3000).toISOString();
    observed.end(
      {
        deliveryId: d.id,
        windowId: "w",
        tenantId: "t",
        ruleId: "r",
        webhookId: "h",
        url: d.url,
        attempt: 1,
        trigger: "scheduled",
        startedAt: new Date(),
        durationMs: 250,
        outcome: "success",
        statusCode: 200,
        error: null,
        responseExcerpt: null,
        nextStatus: "succeeded",
        nextAttemptAt: null,
      },
      Buffer.from(`{"rule_id":"r","start_time":"${start}","end_time":"${start}","runs":[]}`),
    );
    const text = await t.prometheus();
    expect(text).toMatch(/^runhooks_delivery_attempt_duration_seconds_sum\{outcome="success"\} 0\.25$/m);
    expect(text).toMatch(/^runhooks_delivery_end_to_end_latency_seconds_count 1$/m);
    const e2e = Number(/^runhooks_delivery_end_to_end_latency_seconds_sum (\S+)$/m.exec(text)![1]);
    expect(e2e).toBeGreaterThanOrEqual(3);
  });
});
