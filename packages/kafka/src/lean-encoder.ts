import { createRequire } from "node:module";

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

/** The record set is written once into a buffer of its final size, not by doubling. */
function writeEncoderArray(this: EncoderLike, value: unknown): EncoderLike {
  // kafkajs' own check, kept: its callers rely on the error.
  const encoders = Array.isArray(value) ? (value as readonly (EncoderLike | null | undefined)[]) : undefined;
  if (encoders === undefined || encoders.some((v) => v == null || !Buffer.isBuffer(v.buf))) {
    throw new Error("all values should be an instance of Encoder[]");
  }
  let total = 0;
  for (const v of encoders) total += v!.offset;
  this.ensureAvailable(total);
  for (const v of encoders) this.writeBufferInternal(v!.buffer);
  return this;
}

/**
 * Puts the two methods above on kafkajs' Encoder class (its prototype: nothing of kafkajs is edited on
 * disk, and encoders made before the call work too). Idempotent; `createKafka` runs it. On a kafkajs
 * whose layout differs it changes nothing.
 */
export function useLeanEncoder(): LeanEncoder {
  let Encoder: { prototype: Record<string, unknown> };
  try {
    Encoder = require(KAFKAJS_ENCODER_MODULE) as typeof Encoder;
  } catch {
    return "kafkajs-layout-changed";
  }
  const proto = Encoder.prototype;
  if (
    typeof proto["ensureAvailable"] !== "function" ||
    typeof proto["writeEncoderArray"] !== "function" ||
    typeof proto["writeBufferInternal"] !== "function"
  ) {
    return "kafkajs-layout-changed";
  }
  proto["ensureAvailable"] = ensureAvailable;
  proto["writeEncoderArray"] = writeEncoderArray;
  return "lean";
}
