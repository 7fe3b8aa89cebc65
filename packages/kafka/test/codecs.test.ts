import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import { KAFKAJS_CRC32C_MODULE, createKafka, snappy, unsnappy, useNativeCrc32C } from "@runhooks/kafka";
import { compressSync } from "snappy";

const require = createRequire(import.meta.url);
/** kafkajs' own JavaScript CRC32C (signed), which the native one replaces. */
const jsCrc32C = require("kafkajs/src/protocol/recordBatch/crc32C/crc32C.js") as (buffer: Buffer) => number;

describe("native CRC32C in kafkajs", () => {
  it("agrees with kafkajs' own on every length and on results with the top bit set", () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "crc" });
    const kafkajsCrc = require(KAFKAJS_CRC32C_MODULE) as (buffer: Buffer) => number;
    let topBitSet = 0;
    for (let length = 0; length < 600; length++) {
      const buffer = randomBytes(length);
      const expected = jsCrc32C(buffer) >>> 0;
      expect(kafkajsCrc(buffer)).toBe(expected);
      if (expected >= 2 ** 31) topBitSet++;
    }
    expect(topBitSet).toBeGreaterThan(100);
    expect(kafkajsCrc(randomBytes(3 * 2 ** 20))).toBeGreaterThanOrEqual(0);
  });

  it("is what kafkajs loads: createKafka installed it before any produce", () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "crc" });
    expect(useNativeCrc32C()).toBe("native");
    // The record batch encoder requires the module now; it gets ours.
    require("kafkajs/src/protocol/recordBatch/v0/index.js");
    expect(useNativeCrc32C()).toBe("native");
    expect((require(KAFKAJS_CRC32C_MODULE) as { name: string }).name).toBe("nativeCrc32C");
  });
});

describe("Snappy codec", () => {
  const json = Buffer.from(
    JSON.stringify(
      Array.from({ length: 300 }, (_, i) => ({
        i,
        text: "the quarter closed with revenue up ".repeat(5),
        r: Math.random(),
      })),
    ),
  );

  it("round-trips, binary and empty record sets included, and shrinks JSON", () => {
    for (const input of [json, randomBytes(70_000), Buffer.alloc(0)])
      expect(unsnappy(snappy(input)).equals(input)).toBe(true);
    expect(snappy(json).length).toBeLessThan(json.length / 3);
  });

  it("reads the xerial framing Java producers write", () => {
    const parts = [json.subarray(0, 20_000), json.subarray(20_000)];
    const header = Buffer.alloc(16);
    Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]).copy(header);
    header.writeInt32BE(1, 8);
    header.writeInt32BE(1, 12);
    const blocks = parts.flatMap((p) => {
      const block = compressSync(p);
      const size = Buffer.alloc(4);
      size.writeInt32BE(block.length);
      return [size, block];
    });
    expect(unsnappy(Buffer.concat([header, ...blocks])).equals(json)).toBe(true);
    expect(() => unsnappy(Buffer.concat([header, blocks[0]!, blocks[1]!.subarray(0, 10)]))).toThrow(/overruns/);
  });

  it("is kafkajs' Snappy codec once a client is built", async () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "codec" });
    const codec = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy]() as unknown as {
      compress(encoder: { buffer: Buffer }): Promise<Buffer>;
      decompress(buffer: Buffer): Promise<Buffer>;
    };
    const compressed = await codec.compress({ buffer: json });
    expect((await codec.decompress(compressed)).equals(json)).toBe(true);
  });
});
