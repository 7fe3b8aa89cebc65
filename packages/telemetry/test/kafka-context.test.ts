import { describe, expect, it } from "vitest";
import { spanContextFromHeaders, traceparentOf, withTraceHeaders } from "@runhooks/telemetry";

describe("W3C trace context in Kafka headers", () => {
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  it("reads a traceparent header (Buffer, as kafkajs delivers it) and writes it back unchanged", () => {
    const sc = spanContextFromHeaders({ traceparent: Buffer.from(traceparent), tracestate: Buffer.from("rh=1") });
    expect(sc).toMatchObject({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
      isRemote: true,
    });
    const headers = withTraceHeaders({ "runhooks-window-id": "w" }, sc!);
    expect(headers).toEqual({ "runhooks-window-id": "w", traceparent, tracestate: "rh=1" });
    expect(traceparentOf(sc!)).toBe(traceparent);
  });

  it("ignores absent and invalid contexts", () => {
    expect(spanContextFromHeaders(undefined)).toBeUndefined();
    expect(
      spanContextFromHeaders({ traceparent: "00-00000000000000000000000000000000-b7ad6b7169203331-01" }),
    ).toBeUndefined();
    expect(spanContextFromHeaders({ traceparent: "garbage" })).toBeUndefined();
  });
});
