import { ATTR, endProducerSpans, startProducerSpan, type Telemetry } from "@runhooks/telemetry";
import type { RunMessage, RunSink } from "./producer.js";

/**
 * Gives each run a PRODUCER span (`publish <topic>`) from the moment it is handed to Kafka until its
 * acknowledgement, its context in the run's `traceparent` header; the span ends in error if the send
 * fails. With tracing off it is `inner` itself: the hot path pays nothing.
 */
export function tracedSink(t: Telemetry, topic: string, inner: RunSink): RunSink {
  if (!t.tracingEnabled) return inner;
  return {
    async send(messages) {
      const batch = messages.length > 1 ? { [ATTR.messagingBatchCount]: messages.length } : {};
      const started = messages.map((m) =>
        startProducerSpan(
          t,
          topic,
          { key: m.key, value: m.value },
          { attributes: { ...batch, [ATTR.runId]: m.runId } },
        ),
      );
      const traced: RunMessage[] = messages.map((m, i) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(started[i]!.message.headers ?? {}))
          if (typeof value === "string") headers[name] = value;
        return { ...m, headers };
      });
      const spans = started.map((s) => s.span);
      try {
        await inner.send(traced);
        endProducerSpans(spans);
      } catch (error) {
        endProducerSpans(spans, error);
        throw error;
      }
    },
  };
}
