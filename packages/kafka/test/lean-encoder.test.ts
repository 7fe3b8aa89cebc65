import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { KAFKAJS_ENCODER_MODULE, createKafka, useLeanEncoder } from "@runhooks/kafka";
import { mulberry32 } from "../../../test/support/random.js";

const require = createRequire(import.meta.url);

interface Encoder {
  readonly buffer: Buffer;
  writeInt8(v: number): Encoder;
  writeInt32(v: number): Encoder;
  writeInt64(v: number): Encoder;
  writeString(v: string | null): Encoder;
  writeBytes(v: Buffer | null): Encoder;
  writeVarInt(v: number): Encoder;
  writeVarIntBytes(v: Buffer | null): Encoder;
  writeVarIntString(v: string | null): Encoder;
  writeBuffer(v: Buffer): Encoder;
  writeEncoder(v: Encoder): Encoder;
  writeEncoderArray(v: Encoder[]): Encoder;
}
type EncoderClass = new (initialSize?: number) => Encoder;

/** A second, unpatched copy of kafkajs' Encoder class (the cached one is left in place). */
function pristineEncoder(): EncoderClass {
  const path = require.resolve(KAFKAJS_ENCODER_MODULE);
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as EncoderClass;
  } finally {
    if (cached) require.cache[path] = cached;
  }
}

/** The same random sequence of writes, of every kind and of sizes across the growth steps, into an encoder of `Class`. */
function writeSequence(Class: EncoderClass, seed: number): Buffer {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(0x20 + int(0x2000))).join("");
  const out = new Class(int(600));
  for (let step = 0; step < 60; step++) {
    const size = [0, 1, 7, 300, 511, 513, 4096, 70_000][int(8)]!;
    switch (int(10)) {
      case 0:
        out
          .writeInt8(int(127))
          .writeInt32(int(2 ** 31))
          .writeInt64(int(2 ** 40));
        break;
      case 1:
        out.writeString(random() < 0.1 ? null : text(Math.min(size, 4096)));
        break; // an int16 length
      case 2:
        out.writeBytes(random() < 0.1 ? null : bytes(size));
        break;
      case 3:
        out.writeVarInt(int(2 ** 30) - 2 ** 29);
        break;
      case 4:
        out.writeVarIntBytes(random() < 0.1 ? null : bytes(size));
        break;
      case 5:
        out.writeVarIntString(random() < 0.1 ? null : text(size));
        break;
      case 6:
        out.writeBuffer(bytes(size));
        break;
      case 7:
        out.writeEncoder(new Class().writeBytes(bytes(size)));
        break;
      default:
        out.writeEncoderArray(Array.from({ length: int(5) }, () => new Class(int(100)).writeVarIntBytes(bytes(size))));
        break;
    }
  }
  return out.buffer;
}

describe("lean kafkajs encoder", () => {
  it("writes exactly the bytes kafkajs' own encoder writes", () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "lean" });
    expect(useLeanEncoder()).toBe("lean");
    const Patched = require(KAFKAJS_ENCODER_MODULE) as EncoderClass;
    const Pristine = pristineEncoder();
    expect(Patched.prototype).not.toBe(Pristine.prototype);
    let total = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const expected = writeSequence(Pristine, seed);
      expect(writeSequence(Patched, seed).equals(expected)).toBe(true);
      total += expected.length;
    }
    expect(total).toBeGreaterThan(1_000_000); // the sequences went through many growth steps
  });

  it("keeps kafkajs' refusal of a record set that is not encoders", () => {
    useLeanEncoder();
    const Patched = require(KAFKAJS_ENCODER_MODULE) as EncoderClass;
    expect(() => new Patched().writeEncoderArray([null as unknown as Encoder])).toThrow(
      "all values should be an instance of Encoder[]",
    );
  });
});
