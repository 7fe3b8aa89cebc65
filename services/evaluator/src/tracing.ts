import type { ClosedPart, WindowSpec } from "@runhooks/rules";
import {
  ATTR,
  createContextIndex,
  endProducerSpans,
  messageAttributes,
  messagingSpanName,
  parentContext,
  spanContextFromHeaders,
  startProducerSpan,
  type Telemetry,
} from "@runhooks/telemetry";
import { SpanKind, type Link, type Span, type SpanContext } from "@opentelemetry/api";
import type { IHeaders, KafkaMessage } from "kafkajs";

/** `held`: a trace-aware rule took the run as a candidate; it joins a window when its trace settles it. */
export type RunOutcome = "matched" | "held" | "not_matched" | "not_ended" | "dead_lettered";

/** The evaluation of one run message: ended once with what became of it. */
export interface RunTrace {
  end(
    outcome: RunOutcome,
    detail?: { readonly runId?: string; readonly matches?: readonly WindowSpec[]; readonly reason?: string },
  ): void;
}

/**
 * The evaluator's spans (DESIGN.md §1, "Traces"). Exists only when tracing is on: the runs consumer
 * holds `RunsTracing | undefined` and, when undefined, does no per-message work at all.
 *
 * - `process runhooks.runs` (CONSUMER), one per run message: child of the run's producer context
 *   (the `traceparent` header) and linked to it, as the messaging conventions describe.
 * - `publish runhooks.windows` (PRODUCER), one per window part: child of its first run's producer
 *   context (so the trace of a run shows the part and what delivery makes of it), linked to the
 *   producer contexts of the runs it carries (at most MAX_SPAN_LINKS; `runhooks.links_dropped` counts
 *   the rest); `runhooks.window_id` is the part's id. Its context travels to delivery as the part's
 *   `traceparent`: its entry's in a bundle, the header of a single part message.
 */
export interface RunsTracing {
  /** Per run message (not ticks). `replayed`: refolded after a restart; remembered for links, not spanned. */
  run(partition: number, message: KafkaMessage, replayed: boolean): RunTrace;
  /** Starts the part's publish span; returns `headers` with its trace context (`traceparent`). */
  window(partition: number, w: ClosedPart, headers: IHeaders): IHeaders;
  /**
   * Takes the publish spans of the partition's windows started so far (one flush's cut); the
   * returned function ends them once their send settled.
   */
  publishing(partition: number): (error?: unknown) => void;
  /** Offsets below `below` are in no open window any more (the partition's commit point). */
  forget(partition: number, below: number): void;
  /** A rebalance: every partition starts over from its checkpoint. */
  reset(): void;
}

const NO_TRACE: RunTrace = { end: () => undefined };

export function createRunsTracing(
  t: Telemetry,
  o: { readonly runsTopic: string; readonly windowsTopic: string; readonly group: string },
): RunsTracing | undefined {
  if (!t.tracingEnabled) return undefined;
  /** Producer contexts of runs that matched or are held: the only ones a window can carry. */
  const contexts = createContextIndex();
  const pending = new Map<number, Span[]>();

  return {
    run(partition, message, replayed) {
      const producer = spanContextFromHeaders(message.headers);
      const offset = Number(message.offset);
      let span: Span | undefined;
      if (!replayed) {
        span = t.tracer.startSpan(
          messagingSpanName("process", o.runsTopic),
          {
            kind: SpanKind.CONSUMER,
            attributes: messageAttributes({
              operation: "process",
              topic: o.runsTopic,
              key: message.key?.toString() ?? null,
              partition,
              offset,
              group: o.group,
            }),
            links: producer ? [{ context: producer }] : [],
          },
          parentContext(producer),
        );
      }
      if (span === undefined && producer === undefined) return NO_TRACE;
      return {
        end(outcome, detail) {
          if ((outcome === "matched" || outcome === "held") && producer) contexts.remember(partition, offset, producer);
          if (span === undefined) return;
          span.setAttribute(ATTR.outcome, outcome);
          if (detail?.runId !== undefined) span.setAttribute(ATTR.runId, detail.runId);
          if (detail?.reason !== undefined) span.setAttribute("runhooks.dead_letter_reason", detail.reason);
          if (detail?.matches && detail.matches.length > 0)
            span.setAttribute(
              ATTR.ruleIds,
              detail.matches.map((m) => m.ruleId),
            );
          span.end();
        },
      };
    },

    window(partition, w, headers) {
      const runContexts: SpanContext[] = [];
      for (const r of w.runs) {
        const c = contexts.get(partition, r.offset);
        if (c) runContexts.push(c);
      }
      const links: Link[] = runContexts.map((context) => ({ context }));
      const { span, message } = startProducerSpan(
        t,
        o.windowsTopic,
        { key: w.ruleId, value: null, headers },
        {
          parent: parentContext(runContexts[0]),
          links,
          attributes: {
            [ATTR.ruleId]: w.ruleId,
            [ATTR.ruleVersion]: w.ruleVersion,
            [ATTR.windowId]: w.partId,
            [ATTR.windowRunCount]: w.runs.length,
            [ATTR.windowCloseReason]: w.reason,
          },
        },
      );
      let spans = pending.get(partition);
      if (spans === undefined) pending.set(partition, (spans = []));
      spans.push(span);
      return message.headers ?? headers;
    },

    publishing(partition) {
      const spans = pending.get(partition);
      if (spans === undefined) return () => undefined;
      pending.delete(partition);
      return (error) => endProducerSpans(spans, error);
    },

    forget: (partition, below) => contexts.forget(partition, below),

    // Publish spans taken by a flush are ended by it: the flush still settles its send.
    reset: () => contexts.clear(),
  };
}
