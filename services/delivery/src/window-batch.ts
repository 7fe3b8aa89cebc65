import type { ClaimedDelivery, NewDelivery, NewWindow, StoreWindowsResult } from "@runhooks/db";
import type { AssembleInput, MergedChunk } from "@runhooks/rules";
import {
  decodeWindowsMessage,
  header,
  KIND_HEADER,
  windowPartJson,
  type BundledPart,
  type RefusedEntry,
} from "./part-message.js";

export { header, KIND_HEADER };

/**
 * What a batch of `runhooks.windows` is and what storing it comes to. Pure: which message is a tick, a
 * watermark, parts (a part, or a bundle's) or invalid; the body and rows a completed window becomes;
 * what a stored chunk of the batch means for the deliveries reserved in the workers' lanes.
 */

/** What is read of a Kafka message (kafkajs' KafkaMessage fits). */
export interface BatchMessage {
  readonly offset: string;
  readonly value: Buffer | null;
  readonly headers?: { readonly [key: string]: Buffer | string | (Buffer | string)[] | undefined } | undefined;
}

export type PartInput = Extract<AssembleInput, { kind: "part" }>;
export type WatermarkInput = Extract<AssembleInput, { kind: "watermark" }>;

export type BatchMessageKind =
  /** A tick (not for delivery): skipped, not counted. */
  | { readonly kind: "tick" }
  | { readonly kind: "invalid"; readonly offset: string; readonly error: string }
  | { readonly kind: "watermark"; readonly input: WatermarkInput }
  /**
   * A part message, or a bundle's parts (`bundled`), each at the message's offset: a bundle's parts
   * share it, so the assembler commits before the bundle while any of its windows is open.
   */
  | {
      readonly kind: "parts";
      readonly bundled: boolean;
      readonly parts: readonly BatchPart[];
      /** A bundle's entries refused alone (invalid), at its offset. */
      readonly refused: readonly RefusedEntry[];
    };

/** A part of the batch: its input, and the trace context its message (or bundle entry) carried. */
export interface BatchPart {
  readonly input: PartInput;
  readonly traceparent: string | undefined;
  readonly of: BundledPart;
}

export function classifyMessage(message: BatchMessage): BatchMessageKind {
  const m = decodeWindowsMessage(message);
  const offset = Number(message.offset);
  switch (m.kind) {
    case "tick":
      return m;
    case "invalid":
      return { kind: "invalid", offset: message.offset, error: m.error };
    case "watermark":
      return {
        kind: "watermark",
        input: { kind: "watermark", offset, runsPartition: m.runsPartition, streamTime: m.streamTime },
      };
    case "parts":
      return {
        kind: "parts",
        bundled: m.bundled,
        parts: m.parts.map((of) => ({
          input: { kind: "part", offset, ...of.part },
          traceparent: of.traceparent,
          of,
        })),
        refused: m.refused,
      };
  }
}

export interface DecodedBatch {
  /** Parts and watermarks, in offset order (a bundle's parts in its order). */
  readonly inputs: (PartInput | WatermarkInput)[];
  /**
   * The trace context each part carried, by its input: a part and its re-emitted copy share a part id
   * but not their message's trace context.
   */
  readonly traceparents: Map<PartInput, string>;
  /**
   * A bundle's part as the WindowPart message a dead letter keeps of it (a single part's message is
   * kept as it is).
   */
  readonly bundled: Map<PartInput, BundledPart>;
  readonly parts: number;
  readonly watermarks: number;
  /** Messages that are neither valid parts nor a valid watermark, and a bundle's invalid entries: skipped. */
  readonly invalid: InvalidMessage[];
}

/**
 * An invalid message, or an invalid entry of a bundle (`part`: what can be rebuilt of it, under the
 * rule id it names when readable; undefined: the message is kept as it is).
 */
export interface InvalidMessage {
  readonly offset: string;
  readonly error: string;
  readonly part?: { readonly key: string | undefined; readonly value: Buffer } | undefined;
}

/** The batch's messages from offset `from` on (those before it were folded already). */
export function decodeBatch(messages: readonly BatchMessage[], from: number): DecodedBatch {
  const inputs: (PartInput | WatermarkInput)[] = [];
  const traceparents = new Map<PartInput, string>();
  const bundled = new Map<PartInput, BundledPart>();
  const invalid: InvalidMessage[] = [];
  let parts = 0;
  let watermarks = 0;
  for (const message of messages) {
    if (Number(message.offset) < from) continue;
    const m = classifyMessage(message);
    switch (m.kind) {
      case "tick":
        continue;
      case "invalid":
        invalid.push({ offset: m.offset, error: m.error });
        continue;
      case "watermark":
        watermarks++;
        inputs.push(m.input);
        continue;
      case "parts":
        for (const p of m.parts) {
          parts++;
          inputs.push(p.input);
          if (p.traceparent !== undefined) traceparents.set(p.input, p.traceparent);
          if (m.bundled) bundled.set(p.input, p.of);
        }
        for (const r of m.refused)
          invalid.push({
            offset: message.offset,
            error: `bundle: ${r.error}`,
            part: { key: r.ruleId, value: r.value },
          });
    }
  }
  return { inputs, traceparents, bundled, parts, watermarks, invalid };
}

/** A bundle's part as the single WindowPart message it stands for. */
export function bundledPartValue(p: BundledPart): Buffer {
  return windowPartJson(p.head, p.part.runs);
}

/** A completed window's chunk as delivery stores and sends it. */
export interface CompletedWindow {
  readonly windowId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly tenantId: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly runCount: number;
  /** The webhook body, exactly LangSmith's shape: `{"rule_id","start_time","end_time","runs"}`, as UTF-8. */
  readonly payload: Buffer;
  /** The trace context of the window's first part, when its message carried one. */
  readonly traceparent: string | undefined;
}

const COMMA = 0x2c;
const TAIL = Buffer.from("]}");

/** The body a chunk is POSTed as: serialised once, the runs spliced in as their exact bytes. */
export function chunkBody(
  rule: string,
  startTime: string,
  endTime: string,
  runs: readonly { readonly json: Uint8Array }[],
): Buffer {
  const head = Buffer.from(
    `${JSON.stringify({ rule_id: rule, start_time: startTime, end_time: endTime }).slice(0, -1)},"runs":[`,
  );
  let size = head.length + TAIL.length + Math.max(0, runs.length - 1);
  for (const r of runs) size += r.json.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = head.copy(out, 0);
  for (const [i, r] of runs.entries()) {
    if (i > 0) out[at++] = COMMA;
    out.set(r.json, at);
    at += r.json.byteLength;
  }
  TAIL.copy(out, at);
  return out;
}

export function completedWindow(c: MergedChunk, traceparent: string | undefined): CompletedWindow {
  const startTime = new Date(c.startMs).toISOString();
  const endTime = new Date(c.endMs).toISOString();
  return {
    windowId: c.windowId,
    ruleId: c.ruleId,
    ruleVersion: c.ruleVersion,
    tenantId: c.tenantId,
    startTime,
    endTime,
    chunkIndex: c.chunkIndex,
    chunkCount: c.chunkCount,
    runCount: c.runs.length,
    payload: chunkBody(c.ruleId, startTime, endTime, c.runs),
    traceparent,
  };
}

/** Why a window is stored without deliveries: its rule version is unknown, or has no webhook. */
export type WithoutWebhooksReason = "unknown_rule_version" | "no_webhooks";

export function withoutWebhooksReason(
  targets: ReadonlyMap<string, unknown> | undefined,
): WithoutWebhooksReason | undefined {
  if (targets === undefined) return "unknown_rule_version";
  return targets.size === 0 ? "no_webhooks" : undefined;
}

/** A window's row; its body only when it has a webhook to go to. */
export function windowRow(w: CompletedWindow, webhookCount: number): NewWindow {
  return {
    windowId: w.windowId,
    tenantId: w.tenantId,
    ruleId: w.ruleId,
    ruleVersion: w.ruleVersion,
    startTime: w.startTime,
    endTime: w.endTime,
    runCount: w.runCount,
    chunkIndex: w.chunkIndex,
    chunkCount: w.chunkCount,
    webhookCount,
    payload: webhookCount === 0 ? null : w.payload,
  };
}

/** What a delivery's row needs of its webhook. */
export interface DeliveryWebhook {
  readonly webhookId: string;
  readonly redactedUrl: string;
  readonly origin: string;
}

/** One delivery of a window to a webhook: `claimed` when this process reserved room to send it. */
export function deliveryRow(
  w: CompletedWindow,
  id: string,
  webhook: DeliveryWebhook,
  traceId: string,
  claimed: boolean,
): NewDelivery {
  return {
    id,
    windowId: w.windowId,
    webhookId: webhook.webhookId,
    tenantId: w.tenantId,
    ruleId: w.ruleId,
    ruleVersion: w.ruleVersion,
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
export function settleChunk(
  windows: number,
  reserved: readonly NewDelivery[],
  stored: StoreWindowsResult,
): StoredChunk {
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
    storedPending: stored.deliveriesCreated - (stored.skipped ?? 0) > adopt.length,
  };
}
