import { createRequire } from "node:module";
import { crc32c } from "@node-rs/crc32";
import { KAFKAJS_ENCODER_MODULE } from "./lean-encoder.js";
import { valueSlices } from "./sliced-value.js";

const require = createRequire(import.meta.url);

/** kafkajs 2.x's produce request v3, which v4–v7 wrap: the body of every produce request it sends. */
export const KAFKAJS_PRODUCE_V3_MODULE = "kafkajs/src/protocol/requests/produce/v3/request.js";

/** What kafkajs hands a produce request (the fields this encoder reads). */
export interface ProduceRequestArgs {
  readonly acks: number;
  readonly timeout: number;
  readonly compression?: number;
  readonly transactionalId?: string | null;
  readonly producerId?: { toString(): string };
  readonly producerEpoch?: number;
  readonly topicData: readonly {
    readonly topic: string;
    readonly partitions: readonly {
      readonly partition: number;
      readonly firstSequence?: number;
      readonly messages: readonly {
        readonly key?: Buffer | string | null;
        readonly value: Buffer | string | null;
        readonly headers?: Readonly<Record<string, unknown>>;
        readonly timestamp?: unknown;
      }[];
    }[];
  }[];
}

const sizeOfVarInt = (value: number): number => {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (v >= 0x80) {
    bytes++;
    v >>>= 7;
  }
  return bytes;
};

const bytesOf = (v: Buffer | string): Buffer => (typeof v === "string" ? Buffer.from(v) : v);

/** A record's fields as bytes, and its size, worked out before anything is written. */
interface PlannedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly (readonly [Buffer, Buffer])[];
  readonly body: number;
}

function planRecord(
  m: ProduceRequestArgs["topicData"][number]["partitions"][number]["messages"][number],
  offsetDelta: number,
): PlannedRecord | undefined {
  // A sliced value's bytes are its slices, not its placeholder: kafkajs' encoder puts them together.
  if (m.timestamp != null || valueSlices(m.value) !== undefined) return undefined;
  const headers: (readonly [Buffer, Buffer])[] = [];
  if (m.headers !== undefined) {
    for (const name of Object.keys(m.headers)) {
      const v = m.headers[name];
      if (typeof v !== "string" && !Buffer.isBuffer(v)) return undefined;
      headers.push([Buffer.from(name), bytesOf(v)]);
    }
  }
  const key = m.key == null ? null : bytesOf(m.key);
  const value = m.value == null ? null : bytesOf(m.value);
  const field = (b: Buffer | null) => (b === null ? sizeOfVarInt(-1) : sizeOfVarInt(b.length) + b.length);
  let body = 1 + 1 + sizeOfVarInt(offsetDelta) + field(key) + field(value) + sizeOfVarInt(headers.length);
  for (const [k, v] of headers) body += field(k) + field(v);
  return { key, value, headers, body };
}

class Writer {
  at = 0;
  constructor(readonly buf: Buffer) {}
  int8(v: number) {
    this.at = this.buf.writeInt8(v, this.at);
  }
  int16(v: number) {
    this.at = this.buf.writeInt16BE(v, this.at);
  }
  int32(v: number) {
    this.at = this.buf.writeInt32BE(v, this.at);
  }
  int64(v: bigint) {
    this.at = this.buf.writeBigInt64BE(v, this.at);
  }
  varInt(value: number) {
    let v = ((value << 1) ^ (value >> 31)) >>> 0;
    while (v >= 0x80) {
      this.buf[this.at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.at++] = v;
  }
  bytes(b: Buffer) {
    this.at += b.copy(this.buf, this.at);
  }
  varBytes(b: Buffer | null) {
    if (b === null) return this.varInt(-1);
    this.varInt(b.length);
    this.bytes(b);
  }
}

/**
 * The body of a produce request (v3 layout, which v4–v7 share) as kafkajs writes it, byte for byte, for
 * the requests ingest sends: no compression, no transaction, no message timestamps (each partition's
 * records at `now()`, read once per partition as kafkajs reads `Date.now()`), string or Buffer headers. Undefined for any other request: kafkajs
 * encodes it. One buffer of the body's exact size, each record written straight into it — where kafkajs
 * builds an encoder per record, grows and copies it, then copies the records into the batch and the
 * batch into the request (and its 64-bit fields through Long objects). A test holds the bytes to
 * kafkajs' own.
 */
export function encodeProduceBody(args: ProduceRequestArgs, now: () => number): Buffer | undefined {
  if ((args.compression ?? 0) !== 0 || args.transactionalId != null) return undefined;
  const producerId = BigInt(args.producerId?.toString() ?? "-1");
  const producerEpoch = args.producerEpoch ?? 0;
  const topics: { name: Buffer; partitions: { partition: number; sequence: number; records: PlannedRecord[] }[] }[] =
    [];
  let size = 2 + 2 + 4 + 4;
  for (const t of args.topicData) {
    const name = Buffer.from(t.topic);
    size += 2 + name.length + 4;
    const partitions = [];
    for (const p of t.partitions) {
      const records: PlannedRecord[] = [];
      // partition, batch size, first offset, batch length, leader epoch, magic, crc, the body's header
      size += 4 + 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
      for (const [i, m] of p.messages.entries()) {
        const r = planRecord(m, i);
        if (r === undefined) return undefined;
        records.push(r);
        size += sizeOfVarInt(r.body) + r.body;
      }
      partitions.push({ partition: p.partition, sequence: p.firstSequence ?? 0, records });
    }
    topics.push({ name, partitions });
  }
  const w = new Writer(Buffer.allocUnsafeSlow(size));
  w.int16(-1); // transactional id: null
  w.int16(args.acks);
  w.int32(args.timeout);
  w.int32(topics.length);
  for (const t of topics) {
    w.int16(t.name.length);
    w.bytes(t.name);
    w.int32(t.partitions.length);
    for (const p of t.partitions) {
      w.int32(p.partition);
      const sizeAt = w.at;
      w.int32(0); // the batch's size, once known
      w.int64(0n); // first offset
      const lengthAt = w.at;
      w.int32(0); // the batch's length after this field, once known
      w.int32(0); // partition leader epoch
      w.int8(2); // magic
      const crcAt = w.at;
      w.int32(0); // CRC32C of what follows, once written
      const bodyAt = w.at;
      w.int16(0); // attributes: no compression, create time, not transactional
      w.int32(p.records.length - 1);
      const time = BigInt(now());
      w.int64(time);
      w.int64(time);
      w.int64(producerId);
      w.int16(producerEpoch);
      w.int32(p.sequence);
      w.int32(p.records.length);
      for (const [i, r] of p.records.entries()) {
        w.varInt(r.body);
        w.int8(0); // attributes
        w.varInt(0); // timestamp delta (zig-zag 0: one byte, as a varlong)
        w.varInt(i);
        w.varBytes(r.key);
        w.varBytes(r.value);
        w.varInt(r.headers.length);
        for (const [k, v] of r.headers) {
          w.varBytes(k);
          w.varBytes(v);
        }
      }
      w.buf.writeUInt32BE(crc32c(w.buf.subarray(bodyAt, w.at)) >>> 0, crcAt);
      w.buf.writeInt32BE(w.at - lengthAt - 4, lengthAt);
      w.buf.writeInt32BE(w.at - sizeAt - 4, sizeAt);
    }
  }
  if (w.at !== size) throw new Error(`lean produce: wrote ${w.at} bytes of ${size}`);
  return w.buf;
}

export type LeanProduce =
  /** Produce requests ingest sends are encoded by `encodeProduceBody`; others by kafkajs. */
  | "lean"
  /** kafkajs had already loaded its produce request: it keeps it (correct, slower). */
  | "kafkajs-already-loaded"
  /** This kafkajs has no such module (a new layout): it keeps its own (correct, slower). */
  | "kafkajs-layout-changed";

type ProduceRequest = (args: ProduceRequestArgs) => { encode: () => Promise<unknown> };

const LEAN = Symbol("runhooks-lean-produce");

/**
 * Puts `encodeProduceBody` in the place of kafkajs' produce request encoding, by replacing the v3
 * module's export in Node's module cache before kafkajs' v4–v7 modules first require it (they load
 * with the process' first produce): a request `encodeProduceBody` does not take keeps kafkajs' own
 * encoding. Run it before the first produce; idempotent.
 */
export function useLeanProduce(): LeanProduce {
  let path: string;
  let Encoder: new (initialSize?: number) => { buf: Buffer; offset: number };
  let original: ProduceRequest & { [LEAN]?: true };
  try {
    path = require.resolve(KAFKAJS_PRODUCE_V3_MODULE);
    Encoder = require(KAFKAJS_ENCODER_MODULE) as typeof Encoder;
    if (Object.keys(require.cache).some((p) => /requests[/\\]produce[/\\]v[4-7][/\\]request\.js$/.test(p)))
      return "kafkajs-already-loaded";
    original = require(path) as typeof original;
  } catch {
    return "kafkajs-layout-changed";
  }
  if (original[LEAN]) return "lean";
  const lean: ProduceRequest & { [LEAN]?: true } = (args) => {
    const request = original(args);
    return {
      ...request,
      encode: () => {
        const body = encodeProduceBody(args, Date.now);
        if (body === undefined) return request.encode();
        // An encoder holding the body: kafkajs copies it into the request after the header.
        const encoder = new Encoder(0);
        encoder.buf = body;
        encoder.offset = body.length;
        return Promise.resolve(encoder);
      },
    };
  };
  lean[LEAN] = true;
  require.cache[path]!.exports = lean;
  return "lean";
}
