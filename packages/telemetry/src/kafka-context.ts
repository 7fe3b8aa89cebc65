import {
  ROOT_CONTEXT,
  TraceFlags,
  isSpanContextValid,
  trace,
  type Context,
  type SpanContext,
} from "@opentelemetry/api";
import { TraceState, parseTraceParent } from "@opentelemetry/core";
import type { IHeaders } from "kafkajs";

/** W3C trace-context headers, carried in Kafka message headers under the same names as in HTTP. */
export const TRACEPARENT_HEADER = "traceparent";
export const TRACESTATE_HEADER = "tracestate";

/** A header's first value as a string (kafkajs gives Buffers, or arrays of them for repeated keys). */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** `00-<trace id>-<span id>-<flags>` of a span context. */
export function traceparentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
}

/** The remote span context a message's headers carry; undefined when absent or invalid. */
export function spanContextFromHeaders(headers: IHeaders | undefined): SpanContext | undefined {
  const traceparent = headerText(headers, TRACEPARENT_HEADER);
  if (traceparent === undefined) return undefined;
  return spanContextFromTraceparent(traceparent, headerText(headers, TRACESTATE_HEADER));
}

export function spanContextFromTraceparent(traceparent: string, tracestate?: string): SpanContext | undefined {
  const parsed = parseTraceParent(traceparent.trim());
  if (parsed === null || !isSpanContextValid(parsed)) return undefined;
  return {
    ...parsed,
    isRemote: true,
    ...(tracestate === undefined ? {} : { traceState: new TraceState(tracestate) }),
  };
}

/** A context whose parent is the given remote span context (or the root context). */
export function parentContext(sc: SpanContext | undefined): Context {
  return sc === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, sc);
}

/** The headers with the span context injected (a new object; the original is left alone). */
export function withTraceHeaders(headers: IHeaders | undefined, sc: SpanContext): IHeaders {
  const out: IHeaders = { ...headers, [TRACEPARENT_HEADER]: traceparentOf(sc) };
  const state = sc.traceState?.serialize();
  if (state) out[TRACESTATE_HEADER] = state;
  else delete out[TRACESTATE_HEADER];
  return out;
}
