import { ROOT_CONTEXT, SpanKind, type Attributes, type Context, type Link, type Span } from "@opentelemetry/api";
import type { Message, Producer, ProducerRecord, RecordMetadata } from "kafkajs";
import { withTraceHeaders } from "./kafka-context.js";
import { ATTR, messageAttributes, messagingSpanName } from "./messaging.js";
import { MAX_SPAN_LINKS, type Telemetry } from "./setup.js";
import { recordUnexpected } from "./spans.js";

export interface ProducerSpan {
  readonly span: Span;
  /** The message with `traceparent` (and `tracestate`) of the span in its headers. */
  readonly message: Message;
}

export interface ProducerSpanOptions {
  /** Parent of the span (e.g. the HTTP request that brought the run); default: a new trace. */
  readonly parent?: Context;
  readonly attributes?: Attributes;
  /** Contexts this message was made from; at most MAX_SPAN_LINKS are kept (the count dropped is an attribute). */
  readonly links?: readonly Link[];
}

/**
 * Starts the PRODUCER span of one message (`publish <topic>`, the message's creation context) and
 * injects its context into a copy of the message's headers. The caller ends the span once the send
 * resolves (`endProducerSpans`). Only call this when `telemetry.tracingEnabled`.
 */
export function startProducerSpan(
  t: Telemetry,
  topic: string,
  message: Message,
  o: ProducerSpanOptions = {},
): ProducerSpan {
  const links = o.links ?? [];
  const key = message.key === undefined || message.key === null ? undefined : message.key.toString();
  const span = t.tracer.startSpan(
    messagingSpanName("publish", topic),
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...messageAttributes({
          operation: "send",
          topic,
          key,
          ...(message.partition === undefined ? {} : { partition: message.partition }),
        }),
        ...o.attributes,
        ...(links.length > MAX_SPAN_LINKS ? { [ATTR.linksDropped]: links.length - MAX_SPAN_LINKS } : {}),
      },
      links: links.length > MAX_SPAN_LINKS ? links.slice(0, MAX_SPAN_LINKS) : [...links],
    },
    o.parent ?? ROOT_CONTEXT,
  );
  return { span, message: { ...message, headers: withTraceHeaders(message.headers, span.spanContext()) } };
}

/** Ends producer spans after their send: an error is unexpected (the send failed and will be retried). */
export function endProducerSpans(spans: readonly Span[], error?: unknown): void {
  for (const span of spans) {
    if (error !== undefined) recordUnexpected(span, error);
    span.end();
  }
}

export interface SendTracedOptions {
  readonly parent?: Context;
  /** Attributes of each message's span, e.g. `{ "runhooks.run_id": run.id }`: ids only, never secrets. */
  readonly attributes?: (message: Message, index: number) => Attributes;
}

/**
 * `producer.send(record)` with one PRODUCER span per message, whose context travels in the message's
 * `traceparent` header: the way runs enter runhooks traced (ingest, producers, tests). With tracing
 * off it is exactly `producer.send(record)`.
 */
export async function sendTraced(
  t: Telemetry,
  producer: Producer,
  record: ProducerRecord,
  o: SendTracedOptions = {},
): Promise<RecordMetadata[]> {
  if (!t.tracingEnabled) return producer.send(record);
  const started = record.messages.map((message, i) =>
    startProducerSpan(t, record.topic, message, {
      ...(o.parent ? { parent: o.parent } : {}),
      attributes: {
        ...(record.messages.length > 1 ? { [ATTR.messagingBatchCount]: record.messages.length } : {}),
        ...o.attributes?.(message, i),
      },
    }),
  );
  const spans = started.map((s) => s.span);
  try {
    const result = await producer.send({ ...record, messages: started.map((s) => s.message) });
    endProducerSpans(spans);
    return result;
  } catch (error) {
    endProducerSpans(spans, error);
    throw error;
  }
}
