import type { ClaimedDelivery, NewDelivery, NewWindow, StoreWindowsResult } from "@runhooks/db";
import { decodeWindow, type DecodedWindow } from "./window-message.js";

/**
 * What a batch of `runhooks.windows` is and what storing it comes to. Pure: which message is a tick,
 * an invalid window or a window; the rows a window becomes; what a stored chunk means for the
 * deliveries reserved in the workers' lanes.
 */

/** What is read of a Kafka message (kafkajs' KafkaMessage fits). */
export interface BatchMessage {
  readonly offset: string;
  readonly value: Buffer | null;
  readonly headers?: { readonly [key: string]: Buffer | string | (Buffer | string)[] | undefined } | undefined;
}

/** A window of the batch, decoded, with the trace context its message carried. */
export type BatchWindow = Extract<DecodedWindow, { ok: true }> & { readonly traceparent: string | undefined };

export type BatchMessageKind =
  /** The evaluator's partition tick (a watermark, not a window): skipped, not counted. */
  | { readonly kind: "tick" }
  | { readonly kind: "invalid"; readonly offset: string; readonly error: string }
  | { readonly kind: "window"; readonly window: BatchWindow };

export function header(headers: BatchMessage["headers"], name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export function classifyMessage(message: BatchMessage): BatchMessageKind {
  if (header(message.headers, "runhooks-kind") === "tick") return { kind: "tick" };
  const decoded = decodeWindow(message.value);
  if (!decoded.ok) return { kind: "invalid", offset: message.offset, error: decoded.error };
  return { kind: "window", window: { ...decoded, traceparent: header(message.headers, "traceparent") } };
}

export interface DecodedBatch {
  readonly windows: BatchWindow[];
  /** Messages that were meant as windows (every one but ticks), valid or not. */
  readonly read: number;
  /** Windows that are not valid: skipped. */
  readonly invalid: { readonly offset: string; readonly error: string }[];
}

export function decodeBatch(messages: readonly BatchMessage[]): DecodedBatch {
  const windows: BatchWindow[] = [];
  const invalid: { offset: string; error: string }[] = [];
  let read = 0;
  for (const message of messages) {
    const m = classifyMessage(message);
    if (m.kind === "tick") continue;
    read++;
    if (m.kind === "invalid") invalid.push({ offset: m.offset, error: m.error });
    else windows.push(m.window);
  }
  return { windows, read, invalid };
}

/** Why a window is stored without deliveries: its rule version is unknown, or has no webhook. */
export type WithoutWebhooksReason = "unknown_rule_version" | "no_webhooks";

export function withoutWebhooksReason(targets: ReadonlyMap<string, unknown> | undefined): WithoutWebhooksReason | undefined {
  if (targets === undefined) return "unknown_rule_version";
  return targets.size === 0 ? "no_webhooks" : undefined;
}

/** A window's row; its body only when it has a webhook to go to. */
export function windowRow(d: BatchWindow, webhookCount: number): NewWindow {
  const w = d.window;
  return {
    windowId: w.window_id,
    tenantId: w.tenant_id,
    ruleId: w.rule_id,
    ruleVersion: w.rule_version,
    startTime: w.start_time,
    endTime: w.end_time,
    runCount: d.runCount,
    webhookCount,
    payload: webhookCount === 0 ? null : d.payload,
  };
}

/** What a delivery's row needs of its webhook. */
export interface DeliveryWebhook {
  readonly webhookId: string;
  readonly redactedUrl: string;
  readonly origin: string;
}

/** One delivery of a window to a webhook: `claimed` when this process reserved room to send it. */
export function deliveryRow(d: BatchWindow, id: string, webhook: DeliveryWebhook, traceId: string, claimed: boolean): NewDelivery {
  const w = d.window;
  return {
    id,
    windowId: w.window_id,
    webhookId: webhook.webhookId,
    tenantId: w.tenant_id,
    ruleId: w.rule_id,
    ruleVersion: w.rule_version,
    url: webhook.redactedUrl,
    origin: webhook.origin,
    traceId,
    claimed,
  };
}

export interface StoredChunk {
  readonly windowsStored: number;
  /** Windows stored before (a replay): nothing new. */
  readonly windowsDuplicate: number;
  readonly deliveriesCreated: number;
  /** Created claimed by this process: the workers send them without a claim. */
  readonly adopt: ClaimedDelivery[];
  /** Reserved, but they existed already: their room goes back. */
  readonly release: NewDelivery[];
  /** Some deliveries were created pending: the workers should look for them. */
  readonly storedPending: boolean;
}

/** What storing a chunk of `windows` windows came to, for the deliveries it `reserved`. */
export function settleChunk(windows: number, reserved: readonly NewDelivery[], stored: StoreWindowsResult): StoredChunk {
  const existing = new Set(stored.existing);
  const adopt: ClaimedDelivery[] = [];
  const release: NewDelivery[] = [];
  for (const d of reserved) {
    if (!existing.has(d.id)) adopt.push({ ...d, attempt: 1, roundAttempt: 1, trigger: "scheduled" });
    else release.push(d);
  }
  return {
    windowsStored: stored.windowsStored,
    windowsDuplicate: windows - stored.windowsStored,
    deliveriesCreated: stored.deliveriesCreated,
    adopt,
    release,
    storedPending: stored.deliveriesCreated > adopt.length,
  };
}

/** The offset to commit once a batch ending at `offset` is stored: the next one to read. */
export function nextOffset(offset: string): string {
  return String(Number(offset) + 1);
}
