import { randomUUID } from "node:crypto";

/** A complete run as the SDKs send it (ended, with a trace of its own); `overrides` win. */
export function completeRun(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const id = randomUUID();
  return {
    id,
    name: "step",
    run_type: "chain",
    start_time: "2026-01-01T00:00:00.000Z",
    end_time: "2026-01-01T00:00:01.000Z",
    trace_id: id,
    dotted_order: `20260101T000000000000Z${id}`,
    inputs: { q: "hi" },
    outputs: { a: "ho" },
    extra: { metadata: { k: "v" } },
    ...overrides,
  };
}
