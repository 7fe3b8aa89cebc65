import kafkajs from "kafkajs";
// `snappy` (napi-rs): native Snappy with prebuilt binaries as optional dependencies, no install script,
// so a plain `npm ci` installs it. Pinned in package.json: its raw one-shot format is what goes on the
// wire, and a major version could change the option names below.
import { compressSync, uncompressSync } from "snappy";
import { recordSetPieces } from "./lean-encoder.js";
import { snappyPieces } from "./sliced-value.js";

const { CompressionCodecs, CompressionTypes } = kafkajs;

/** The xerial framing Java producers write (`SnappyOutputStream`): magic, two int32 versions, then blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

// copyOutputData: napi-rs' default hands back an external buffer, which costs ~8x the compression
// itself (measured on 50–900 KB record sets: ~190 MB/s against ~2 GB/s copied).
const raw = (input: Uint8Array): Buffer => uncompressSync(input, { asBuffer: true, copyOutputData: true }) as Buffer;

/** A record set compressed by any Kafka client: one raw Snappy block (kafkajs, librdkafka) or xerial-framed blocks (Java). */
export function unsnappy(buffer: Buffer): Buffer {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC))
    return raw(buffer);
  const blocks: Buffer[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < buffer.length) {
    const size = buffer.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > buffer.length)
      throw new Error(
        `xerial snappy block of ${size} bytes at ${at - 4} overruns the ${buffer.length}-byte record set`,
      );
    blocks.push(raw(buffer.subarray(at, at + size)));
    at += size;
  }
  return Buffer.concat(blocks);
}

export function snappy(buffer: Buffer): Buffer {
  return compressSync(buffer, { copyOutputData: true });
}

/**
 * kafkajs' Snappy codec (it ships none): the windows topic's compression. Every kafkajs client that
 * reads a Snappy batch needs it; `createKafka` registers it, so every runhooks client has it. Compresses
 * on the calling thread: a 20 KB window takes ~10 µs, less than a round trip to libuv's thread pool.
 * A record set holding sliced values (sliced-value.ts) is assembled from its slices' cached elements
 * (`snappyPieces`). The codec table is process-wide; setting it again is harmless.
 */
export function useSnappy(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: (encoder: { buffer: Buffer }) => {
      const pieces = recordSetPieces(encoder);
      return Promise.resolve(pieces === undefined ? snappy(encoder.buffer) : snappyPieces(pieces));
    },
    decompress: (buffer: Buffer) => Promise.resolve(unsnappy(buffer)),
  });
}
