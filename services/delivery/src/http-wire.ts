import type { AttemptRequest } from "./attempt-sender.js";
import type { AttemptResult } from "./attempt-result.js";
import type { Target } from "./target.js";

/**
 * How attempts and their results cross to and from the HTTP thread. Structured cloning copies object
 * by object and string by string, and a batch of attempt objects (each with its headers) cost more to
 * clone than to send. So a batch crosses as typed arrays, moved rather than copied, plus one string:
 * numbers in `ints`, the delivery ids and traceparents joined, the bodies packed end to end. A webhook's
 * target (URL, custom headers, signing key) crosses once, the first time one of its attempts does, and
 * is referred to by a number after that. Pure functions, tested by round trip.
 */

/** A target as it crosses (once): the signing key as bytes (a Buffer arrives as a Uint8Array). */
export interface CrossingTarget extends Omit<Target, "signingKey"> {
  readonly key: number;
  readonly signingKey: Uint8Array | undefined;
}

export interface RequestBatch {
  readonly type: "send";
  /** Targets new to the thread, before the attempts that use them. */
  readonly targets: readonly CrossingTarget[];
  /** Per attempt (INTS of them): id, target key, attempt number, timestamp (seconds), chunk index, chunk count. */
  readonly ints: Uint32Array;
  /** Per attempt: delivery id, traceparent and backfill id ("" for none), all joined by "\n" (none can hold one). */
  readonly text: string;
  /** Attempt i's body is `bytes[ends[i - 1] ?? 0, ends[i])`. */
  readonly ends: Uint32Array;
  readonly bytes: Uint8Array;
}

export interface ResultBatch {
  readonly type: "done";
  readonly ids: Uint32Array;
  /** A status code (a response), or the negative index of a failure kind in FAILURES. */
  readonly codes: Int32Array;
  /** Per result: its excerpt or error, joined by NUL (texts are scrubbed of NUL); "" is a null excerpt. */
  readonly texts: string;
  /** Per result: a response's Retry-After in ms, or -1 for none. */
  readonly retryAfter: Float64Array;
}

/** Numbers per attempt in `RequestBatch.ints`. */
const INTS = 6;
/** Strings per attempt in `RequestBatch.text`. */
const TEXTS = 3;
const FAILURES = [
  "connect_error",
  "timeout",
  "ssrf_blocked",
  "invalid_response",
  "request_failed",
  "interrupted",
] as const;
const NUL = "\u0000";

export interface OutgoingAttempt {
  readonly id: number;
  readonly targetKey: number;
  readonly request: AttemptRequest;
}

/** A batch and the buffers to move with it (`postMessage(batch, transfer)`). */
export function packRequests(
  attempts: readonly OutgoingAttempt[],
  targets: readonly CrossingTarget[],
): { batch: RequestBatch; transfer: ArrayBuffer[] } {
  let total = 0;
  for (const a of attempts) total += a.request.body.byteLength;
  // Buffers of their own (not slices of Node's shared pool), so they can be moved.
  const bytes = Buffer.allocUnsafeSlow(total);
  const ends = new Uint32Array(attempts.length);
  const ints = new Uint32Array(attempts.length * INTS);
  const text: string[] = [];
  let at = 0;
  for (let i = 0; i < attempts.length; i++) {
    const { id, targetKey, request } = attempts[i]!;
    bytes.set(request.body, at);
    at += request.body.byteLength;
    ends[i] = at;
    ints[INTS * i] = id;
    ints[INTS * i + 1] = targetKey;
    ints[INTS * i + 2] = request.attempt;
    ints[INTS * i + 3] = request.timestampSeconds;
    ints[INTS * i + 4] = request.chunkIndex;
    ints[INTS * i + 5] = request.chunkCount;
    text.push(request.deliveryId, request.traceparent, request.backfillId ?? "");
  }
  return {
    batch: { type: "send", targets, ints, text: text.join("\n"), ends, bytes },
    transfer: [bytes.buffer, ends.buffer, ints.buffer],
  };
}

export function crossingTarget(key: number, t: Target): CrossingTarget {
  return { ...t, key, signingKey: t.signingKey };
}

/** A crossed target as the sender uses it. */
export function arrivedTarget(t: CrossingTarget): Target {
  const { key: _key, signingKey, ...rest } = t;
  return {
    ...rest,
    signingKey:
      signingKey === undefined
        ? undefined
        : Buffer.from(signingKey.buffer, signingKey.byteOffset, signingKey.byteLength),
  };
}

/** The attempts of a batch; a target key the thread does not know is a bug (thrown). */
export function unpackRequests(
  batch: RequestBatch,
  targets: ReadonlyMap<number, Target>,
): { id: number; request: AttemptRequest }[] {
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const text = batch.text.split("\n");
  const out: { id: number; request: AttemptRequest }[] = [];
  let start = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i]!;
    const targetKey = batch.ints[INTS * i + 1]!;
    const target = targets.get(targetKey);
    if (target === undefined) throw new Error(`the HTTP thread does not know target ${targetKey}`);
    out.push({
      id: batch.ints[INTS * i]!,
      request: {
        target,
        deliveryId: text[TEXTS * i]!,
        attempt: batch.ints[INTS * i + 2]!,
        timestampSeconds: batch.ints[INTS * i + 3]!,
        traceparent: text[TEXTS * i + 1]!,
        chunkIndex: batch.ints[INTS * i + 4]!,
        chunkCount: batch.ints[INTS * i + 5]!,
        ...(text[TEXTS * i + 2] ? { backfillId: text[TEXTS * i + 2] } : {}),
        body: bytes.subarray(start, end),
      },
    });
    start = end;
  }
  return out;
}

export function packResults(results: readonly { id: number; result: AttemptResult }[]): {
  batch: ResultBatch;
  transfer: ArrayBuffer[];
} {
  const ids = new Uint32Array(results.length);
  const codes = new Int32Array(results.length);
  const retryAfter = new Float64Array(results.length).fill(-1);
  const texts: string[] = [];
  for (let i = 0; i < results.length; i++) {
    const { id, result } = results[i]!;
    ids[i] = id;
    if (result.kind === "response") {
      codes[i] = result.statusCode;
      if (result.retryAfterMs !== undefined) retryAfter[i] = result.retryAfterMs;
      texts.push(result.excerpt ?? "");
    } else {
      codes[i] = -1 - FAILURES.indexOf(result.kind);
      texts.push(result.error);
    }
  }
  return {
    batch: { type: "done", ids, codes, texts: texts.join(NUL), retryAfter },
    transfer: [ids.buffer, codes.buffer, retryAfter.buffer],
  };
}

export function unpackResults(batch: ResultBatch): { id: number; result: AttemptResult }[] {
  const texts = batch.texts.split(NUL);
  const out: { id: number; result: AttemptResult }[] = [];
  for (let i = 0; i < batch.ids.length; i++) {
    const code = batch.codes[i]!;
    const text = texts[i] ?? "";
    const retryAfterMs = batch.retryAfter[i]!;
    const excerpt = text === "" ? null : text;
    const result: AttemptResult =
      code < 0
        ? { kind: FAILURES[-1 - code]!, error: text }
        : retryAfterMs < 0
          ? { kind: "response", statusCode: code, excerpt }
          : { kind: "response", statusCode: code, excerpt, retryAfterMs };
    out.push({ id: batch.ids[i]!, result });
  }
  return out;
}
