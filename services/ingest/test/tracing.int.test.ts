import { randomUUID } from "node:crypto";
import { ATTR, otelConfigFromEnv } from "@runhooks/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KIND, attr, startOtlpReceiver, type OtlpReceiver } from "../../../test/support/otlp-receiver.js";
import { createIngestHarness, type IngestHarness } from "./harness.js";

/** Where a trace from ingestion to webhook begins (issue #6): a producer span per accepted run. */
describe("ingest tracing", () => {
  let h: IngestHarness;
  let otlp: OtlpReceiver;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    h = await createIngestHarness("ingest-tracing");
  });
  afterAll(async () => {
    await h?.close();
    await otlp?.close();
  });

  it("gives each accepted run a PRODUCER span whose context is the run message's traceparent", async () => {
    const otel = otelConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: "50" });
    const ingest = await h.start({ otel });
    const ids = [randomUUID(), randomUUID()];
    const post = ids.map((id) => ({
      id,
      name: "step",
      run_type: "llm",
      start_time: "2026-01-01T00:00:00.000Z",
      end_time: "2026-01-01T00:00:01.000Z",
      trace_id: id,
      dotted_order: `20260101T000000000000Z${id}`,
    }));
    const response = await fetch(`${ingest.url}/runs/batch`, {
      method: "POST",
      headers: { "x-api-key": h.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ post }),
    });
    expect(response.status).toBe(202);
    await h.waitForRuns((runs) => ids.every((id) => runs.some((r) => r.run["id"] === id)));
    await ingest.stop(); // flushes the spans

    for (const id of ids) {
      const message = h.runs.find((r) => r.run["id"] === id)!;
      expect(message.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const [, traceId, spanId] = message.traceparent!.split("-");
      const span = otlp.spans.find((s) => s.traceId === traceId && s.spanId === spanId);
      expect(span, `the span of run ${id}`).toBeDefined();
      expect(span!.kind).toBe(KIND.producer);
      expect(span!.name).toBe(`publish ${h.topics.runs}`);
      expect(attr(span!, ATTR.runId)).toBe(id);
      expect(span!.service).toBe("runhooks-ingest");
    }
    // The API key never reaches a span.
    expect(otlp.bodies.join("\n")).not.toContain(h.apiKey);
  });
});
