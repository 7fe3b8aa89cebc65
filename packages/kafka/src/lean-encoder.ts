import { createRequire } from "node:module";
import { enableSlicedValues, joinSlices, valueSlices, type RecordSetPiece, type ValueSlices } from "./sliced-value.js";

const require = createRequire(import.meta.url);

/** kafkajs 2.x's protocol encoder: every request and record batch it produces is written through it. */
export const KAFKAJS_ENCODER_MODULE = "kafkajs/src/protocol/encoder.js";

export type LeanEncoder =
  /** kafkajs' encoders grow without zero-filling, and size a record set once. */
  | "lean"
  /** This kafkajs has no such encoder (a new layout): it keeps its own (correct, slower). */
  | "kafkajs-layout-changed";

interface EncoderLike {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  ensureAvailable(length: number): void;
  writeBufferInternal(buffer: Buffer): void;
  writeVarInt(value: number): EncoderLike;
  /**
   * What the encoder holds before `buf` once a sliced value was written (sliced-value.ts): its bytes
   * are these pieces', then `buf[0, offset)`. Undefined on every other encoder.
   */
  pieces?: RecordSetPiece[];
}

const nextPowerOfTwo = (value: number): number => 2 ** (32 - Math.clz32(value));

/**
 * kafkajs grows an encoder by doubling into `Buffer.alloc`, which zero-fills every new buffer before
 * the old bytes are copied over it. A producer of large messages pays for that at every level — each
 * window is written into its record, the records into the record set, the batch into the request —
 * and the buffers, tracked as external memory, bring on V8's full collections. Profiled on the
 * evaluator's broad-rules bench, the zero fill alone was a tenth of the process' CPU; encoding a
 * produce request of windows alone takes ~18% less CPU without it (bench/kafka/produce-encoding.ts).
 *
 * Sound because an encoder only ever exposes `buf[0, offset)` (its `buffer` getter) and every write
 * method fills all the bytes it reserves before moving `offset` past them: the unzeroed tail is never
 * read. A test proves patched and unpatched encoders write the same bytes.
 */
function ensureAvailable(this: EncoderLike, length: number): void {
  if (this.offset + length <= this.buf.length) return;
  const grown = Buffer.allocUnsafeSlow(nextPowerOfTwo(this.offset + length));
  this.buf.copy(grown, 0, 0, this.offset);
  this.buf = grown;
}

/**
 * The record set is written once into a buffer of its final size, not by doubling. Records holding a
 * sliced value pass their pieces on: the record set keeps the value's place, not a copy of its bytes.
 */
function writeEncoderArray(this: EncoderLike, value: unknown): EncoderLike {
  // kafkajs' own check, kept: its callers rely on the error.
  const encoders = Array.isArray(value) ? (value as readonly (EncoderLike | null | undefined)[]) : undefined;
  if (encoders === undefined || encoders.some((v) => v == null || !Buffer.isBuffer(v.buf))) {
    throw new Error("all values should be an instance of Encoder[]");
  }
  let total = 0;
  let sliced = false;
  for (const v of encoders) {
    total += v!.offset;
    if (v!.pieces !== undefined) sliced = true;
  }
  if (!sliced) {
    this.ensureAvailable(total);
    for (const v of encoders) this.writeBufferInternal(v!.buffer);
    return this;
  }
  for (const v of encoders) {
    for (const p of v!.pieces ?? []) {
      if (p instanceof Uint8Array) this.writeBufferInternal(p as Buffer);
      else keepSlices(this, p);
    }
    this.writeBufferInternal(v!.buf.subarray(0, v!.offset));
  }
  return this;
}

/** Ends the encoder's bytes so far as a piece, and keeps the sliced value's place after them. */
function keepSlices(e: EncoderLike, slices: ValueSlices): void {
  const pieces = (e.pieces ??= []);
  if (e.offset > 0) {
    pieces.push(e.buf.subarray(0, e.offset));
    e.buf = Buffer.allocUnsafeSlow(256);
    e.offset = 0;
  }
  pieces.push(slices);
}

/** A record's value: a sliced value keeps its place (its length first, as for any bytes). */
function writeVarIntBytes(this: EncoderLike, value: unknown): EncoderLike {
  const slices = valueSlices(value);
  if (slices === undefined) return kafkajsWriteVarIntBytes!.call(this, value);
  this.writeVarInt(slices.length);
  keepSlices(this, slices);
  return this;
}

/** The encoder's bytes; put together when it holds sliced values (a path other than the Snappy codec's). */
function buffer(this: EncoderLike): Buffer {
  const pieces = this.pieces;
  if (pieces === undefined) return this.buf.subarray(0, this.offset);
  let size = this.offset;
  for (const p of pieces) size += p instanceof Uint8Array ? p.byteLength : p.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of pieces) {
    const bytes = p instanceof Uint8Array ? p : joinSlices(p);
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  out.set(this.buf.subarray(0, this.offset), at);
  return out;
}

/** The record set's pieces for the Snappy codec; undefined when it holds no sliced value. */
export function recordSetPieces(encoder: unknown): RecordSetPiece[] | undefined {
  const e = encoder as EncoderLike;
  if (e.pieces === undefined) return undefined;
  return [...e.pieces, e.buf.subarray(0, e.offset)];
}

let kafkajsWriteVarIntBytes: ((this: EncoderLike, value: unknown) => EncoderLike) | undefined;

/**
 * Puts the methods above on kafkajs' Encoder class (its prototype: nothing of kafkajs is edited on
 * disk, and encoders made before the call work too) and enables sliced values. Idempotent;
 * `createKafka` runs it. On a kafkajs whose layout differs it changes nothing (and sliced values stay
 * off).
 */
export function useLeanEncoder(): LeanEncoder {
  let Encoder: { prototype: Record<string, unknown> };
  try {
    Encoder = require(KAFKAJS_ENCODER_MODULE) as typeof Encoder;
  } catch {
    return "kafkajs-layout-changed";
  }
  const proto = Encoder.prototype;
  const bufferGetter = Object.getOwnPropertyDescriptor(proto, "buffer");
  if (
    typeof proto["ensureAvailable"] !== "function" ||
    typeof proto["writeEncoderArray"] !== "function" ||
    typeof proto["writeBufferInternal"] !== "function" ||
    typeof proto["writeVarIntBytes"] !== "function" ||
    typeof proto["writeVarInt"] !== "function" ||
    typeof bufferGetter?.get !== "function"
  ) {
    return "kafkajs-layout-changed";
  }
  proto["ensureAvailable"] = ensureAvailable;
  proto["writeEncoderArray"] = writeEncoderArray;
  if (proto["writeVarIntBytes"] !== writeVarIntBytes) {
    kafkajsWriteVarIntBytes = proto["writeVarIntBytes"] as typeof kafkajsWriteVarIntBytes;
    proto["writeVarIntBytes"] = writeVarIntBytes;
  }
  Object.defineProperty(proto, "buffer", { get: buffer, configurable: true });
  enableSlicedValues();
  return "lean";
}
