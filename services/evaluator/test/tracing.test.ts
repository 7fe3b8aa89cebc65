import { MAX_SPAN_LINKS, OTEL_OFF, createTelemetry, startProducerSpan } from "@runhooks/telemetry";
import { describe, expect, it } from "vitest";
import { createRunsTracing } from "../src/tracing.js";

const identity = { name: "runhooks-evaluator", version: "test", instanceId: "t" };

describe("evaluator tracing", () => {
  it("does not exist when tracing is off, so the runs consumer does no per-message tracing work", () => {
    const t = createTelemetry(OTEL_OFF, identity);
    expect(createRunsTracing(t, { runsTopic: "r", windowsTopic: "w", group: "g" })).toBeUndefined();
  });

  it("caps a window's links to its runs at MAX_SPAN_LINKS and says how many it dropped", () => {
    // An endpoint nothing listens on: the span is never ended, so nothing is sent.
    const t = createTelemetry({ ...OTEL_OFF, tracesEndpoint: "http://127.0.0.1:9/v1/traces" }, identity);
    expect(t.tracingEnabled).toBe(true);
    const links = Array.from({ length: 200 }, (_, i) => ({
      context: {
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: (i + 1).toString(16).padStart(16, "0"),
        traceFlags: 1,
      },
    }));
    const { span, message } = startProducerSpan(t, "runhooks.windows", { key: "rule", value: "{}" }, { links });
    const readable = span as unknown as { links: unknown[]; attributes: Record<string, unknown> };
    expect(MAX_SPAN_LINKS).toBe(128);
    expect(readable.links).toHaveLength(128);
    expect(readable.attributes["runhooks.links_dropped"]).toBe(72);
    expect(String(message.headers?.["traceparent"])).toBe(
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    );
  });
});
