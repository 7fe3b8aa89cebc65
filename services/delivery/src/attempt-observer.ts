import { SpanKind, TraceFlags, type Span, type SpanContext } from "@opentelemetry/api";
import type { ClaimedDelivery } from "@runhooks/db";
import { ATTR, parentContext, spanContextFromTraceparent, traceparentOf, type Telemetry } from "@runhooks/telemetry";
import { createHash } from "node:crypto";
import type { DeliveryHistograms } from "./metrics.js";
import type { Finished } from "./recorder.js";
import type { Target } from "./target.js";

/** One attempt as observed: its traceparent (when traced) and, once it ended, its metrics and spans. */
export interface ObservedAttempt {
  /** The traceparent to send: the HTTP client span's context. Undefined when tracing is off. */
  readonly traceparent: string | undefined;
  end(finished: Finished, body: Buffer): void;
}

export interface AttemptObserver {
  /** A window was read: its publish span's context parents its deliveries' attempts. */
  windowRead(windowId: string, traceparent: string | undefined): void;
  start(d: ClaimedDelivery, target: Target): ObservedAttempt;
}

/** Windows whose context is kept in memory; older ones fall back to a context derived from the delivery (below). */
const MAX_WINDOW_CONTEXTS = 50_000;

/** `"start_time":"…"` of a webhook body (always its second member: `{"rule_id","start_time",…}`). */
const START_TIME = /"start_time":"([^"]{10,40})"/;

export function windowStartMs(body: Buffer): number | undefined {
  const m = START_TIME.exec(body.toString("utf8", 0, Math.min(body.length, 160)));
  const ms = m?.[1] === undefined ? Number.NaN : Date.parse(m[1]);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Spans and metrics of attempts (DESIGN.md §1, "Traces"). Each attempt is a span `deliver webhook`,
 * child of the window's publish span (the window message's `traceparent`), with one HTTP client child
 * span `POST` whose context is the `traceparent` header the receiver gets. The window's context is kept
 * in memory from when its message was read; an attempt of a window read by an earlier process (a retry
 * after a restart) has only the stored trace id, so its parent is a span id derived from the delivery
 * id: same trace, parent not recorded. Attributes are ids, the attempt number, the outcome, the status
 * and the redacted URL: never a secret.
 */
export function createAttemptObserver(t: Telemetry, histograms: DeliveryHistograms): AttemptObserver {
  const windows = new Map<string, SpanContext>();

  function parentOf(d: ClaimedDelivery): SpanContext {
    const known = windows.get(d.windowId);
    if (known && known.traceId === d.traceId) return known;
    const spanId = createHash("sha256").update(d.id).digest("hex").slice(0, 16);
    return { traceId: d.traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
  }

  function metrics(f: Finished, body: Buffer): void {
    if (f.outcome === null) return;
    histograms.attemptDuration.record(f.durationMs / 1000, { outcome: f.outcome });
    if (f.outcome !== "success") return;
    const start = windowStartMs(body);
    if (start !== undefined) histograms.endToEndLatency.record(Math.max(0, Date.now() - start) / 1000);
  }

  if (!t.tracingEnabled) {
    return { windowRead: () => undefined, start: () => ({ traceparent: undefined, end: metrics }) };
  }

  return {
    windowRead(windowId, traceparent) {
      const context = traceparent === undefined ? undefined : spanContextFromTraceparent(traceparent);
      if (context === undefined) return;
      if (windows.size >= MAX_WINDOW_CONTEXTS) windows.delete(windows.keys().next().value as string);
      windows.set(windowId, context);
    },
    start(d, target) {
      const ids = {
        [ATTR.ruleId]: d.ruleId,
        [ATTR.ruleVersion]: d.ruleVersion,
        [ATTR.windowId]: d.windowId,
        [ATTR.deliveryId]: d.id,
        [ATTR.webhookId]: d.webhookId,
        [ATTR.attempt]: d.attempt,
      };
      const attempt: Span = t.tracer.startSpan(
        "deliver webhook",
        { kind: SpanKind.INTERNAL, attributes: { ...ids, "runhooks.trigger": d.trigger } },
        parentContext(parentOf(d)),
      );
      const origin = new URL(target.origin);
      const http: Span = t.tracer.startSpan(
        "POST",
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "http.request.method": "POST",
            "url.full": target.redactedUrl,
            "url.scheme": origin.protocol.replace(":", ""),
            "server.address": origin.hostname,
            "server.port": Number(origin.port || (origin.protocol === "https:" ? 443 : 80)),
            [ATTR.deliveryId]: d.id,
            [ATTR.attempt]: d.attempt,
          },
        },
        parentContext(attempt.spanContext()),
      );
      return {
        traceparent: traceparentOf(http.spanContext()),
        end(f, body) {
          metrics(f, body);
          if (f.statusCode !== null) http.setAttribute("http.response.status_code", f.statusCode);
          if (f.outcome !== "success")
            http.setAttribute(
              "error.type",
              f.statusCode === null ? (f.outcome ?? "interrupted") : String(f.statusCode),
            );
          http.end();
          attempt.setAttributes({
            [ATTR.outcome]: f.outcome ?? "interrupted",
            "runhooks.next_status": f.nextStatus,
            ...(f.statusCode === null ? {} : { "http.response.status_code": f.statusCode }),
          });
          attempt.end();
        },
      };
    },
  };
}
