import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import {
  createKafka,
  joinSlices,
  slicedValue,
  slicedValuesSupported,
  snappy,
  snappyPieces,
  unsnappy,
  valueSlices,
  type RecordSetPiece,
} from "@runhooks/kafka";
import { mulberry32 } from "../../../test/support/random.js";

const require = createRequire(import.meta.url);

const text = (random: () => number, n: number) =>
  Buffer.from(Array.from({ length: n }, () => 'abcdefghij {}":,0123456789'[Math.floor(random() * 27)]).join(""));

/** Pieces as a record set holds them: whole bytes between values whose shared slices recur. */
function pieces(seed: number): { pieces: RecordSetPiece[]; bytes: Buffer } {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pool = Array.from({ length: 12 }, () => text(random, [1, 15, 16, 17, 63, 64, 65, 1600, 70_000][int(9)]!));
  const out: RecordSetPiece[] = [];
  for (let i = 0; i < 30; i++) {
    out.push(text(random, int(40)));
    const shared = Array.from({ length: int(8) }, () => pool[int(pool.length)]!);
    const head = text(random, int(3) === 0 ? 0 : int(500));
    const v = slicedValue(head, shared);
    out.push(valueSlices(v)!);
  }
  out.push(text(random, int(3)));
  const bytes = Buffer.concat(out.map((p) => (p instanceof Uint8Array ? p : joinSlices(p))));
  return { pieces: out, bytes };
}

describe("a record set assembled from sliced values", () => {
  it("decodes to the pieces' bytes, repeats near and past 64 KiB included", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { pieces: p, bytes } = pieces(seed);
      expect(unsnappy(snappyPieces(p)).equals(bytes)).toBe(true);
    }
  });

  it("decodes empty, and repeats a shared slice by reference: far smaller than compressing each value", () => {
    expect(unsnappy(snappyPieces([])).length).toBe(0);
    const run = text(mulberry32(7), 1600);
    const values = Array.from({ length: 50 }, (_, i) => valueSlices(slicedValue(Buffer.from(`{"i":${i}}`), [run]))!);
    const assembled = snappyPieces(values);
    expect(unsnappy(assembled).equals(Buffer.concat(values.map(joinSlices)))).toBe(true);
    const eachAlone = values.reduce((n, v) => n + snappy(joinSlices(v)).length, 0);
    expect(assembled.length).toBeLessThan(eachAlone / 5);
  });

  it("is what kafkajs' produce encoding writes for a sliced value: the same record set as for the whole value", async () => {
    createKafka({ brokers: ["127.0.0.1:1"], clientId: "sliced" });
    expect(slicedValuesSupported()).toBe(true);
    const { Types } = require("kafkajs/src/protocol/message/compression/index.js") as { Types: { Snappy: number } };
    const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
      RecordBatch: (o: unknown) => Promise<{ buffer: Buffer }>;
    };
    const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (o: unknown) => unknown;
    const random = mulberry32(11);
    const run = text(random, 3000);
    const values = Array.from({ length: 6 }, (_, i) => ({
      head: text(random, 20 + i * 50),
      shared: [run, Buffer.from(","), text(random, 70_000 * (i % 2)), Buffer.from("]}")],
    }));
    const batch = async (sliced: boolean) => {
      const records = values.map((v, i) =>
        Record({
          offsetDelta: i,
          timestampDelta: i,
          key: `k${i}`,
          value: sliced ? slicedValue(v.head, v.shared) : joinSlices(v),
          headers: { "runhooks-kind": "part" },
        }),
      );
      const encoded = await RecordBatch({ compression: Types.Snappy, records, firstTimestamp: 1, maxTimestamp: 2 });
      // The record set follows the base offset, the batch length, its header and the record count.
      return unsnappy(encoded.buffer.subarray(8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4));
    };
    const [whole, sliced] = [await batch(false), await batch(true)];
    expect(sliced.equals(whole)).toBe(true);
    // A sliced value read by any other path (an encoder's bytes) comes whole, never as the placeholder's zeros.
    const uncompressed = Record({ key: "k", value: slicedValue(values[0]!.head, values[0]!.shared) }) as {
      buffer: Buffer;
    };
    expect(uncompressed.buffer.includes(joinSlices(values[0]!))).toBe(true);
  });
});
