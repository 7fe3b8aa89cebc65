import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { KAFKAJS_PRODUCE_V3_MODULE, encodeProduceBody, useLeanProduce, type ProduceRequestArgs } from "@runhooks/kafka";
import { mulberry32 } from "../../../test/support/random.js";

const require = createRequire(import.meta.url);
type ProduceRequest = (args: ProduceRequestArgs) => {
  encode(): Promise<{ readonly buffer: Buffer; readonly buf: Buffer; readonly offset: number }>;
};

/** kafkajs' own produce request v3, loaded apart from the cached module (which `useLeanProduce` replaces). */
function kafkajsProduceRequest(): ProduceRequest {
  const path = require.resolve(KAFKAJS_PRODUCE_V3_MODULE);
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as ProduceRequest;
  } finally {
    if (cached) require.cache[path] = cached;
  }
}

/** Each partition's batch timestamp in a body of one topic: kafkajs reads its clock once per partition. */
function batchTimes(body: Buffer, topic: string): number[] {
  // transactional id (null), acks, timeout, topics, the topic's name: then its partitions.
  let at = 2 + 2 + 4 + 4 + 2 + Buffer.byteLength(topic);
  const count = body.readInt32BE(at);
  at += 4;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const size = body.readInt32BE(at + 4);
    const batch = at + 8;
    // first offset, length, leader epoch, magic, crc, attributes, last offset delta: then the time.
    times.push(Number(body.readBigInt64BE(batch + 8 + 4 + 4 + 1 + 4 + 2 + 4)));
    at = batch + size;
  }
  return times;
}

/** The first offset where two buffers differ, -1 when they are equal. */
function firstDifference(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

function randomArgs(seed: number): ProduceRequestArgs {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const text = (n: number) => Array.from({ length: n }, () => "aé€😀z"[int(5)]).join("");
  return {
    acks: -1,
    timeout: 30_000,
    topicData: [
      {
        topic: "runhooks.runs",
        partitions: Array.from({ length: 1 + int(4) }, (_, p) => ({
          partition: p,
          ...(random() < 0.5 ? { firstSequence: 0 } : {}),
          // Up to 300 records: offset deltas past 63 take two varint bytes.
          messages: Array.from({ length: 1 + int(300) }, () => {
            const roll = random();
            return {
              key: roll < 0.1 ? null : roll < 0.5 ? text(36) : Buffer.from(text(36)),
              value: roll > 0.95 ? null : random() < 0.5 ? text(int(3000)) : Buffer.from(text(int(300))),
              ...(random() < 0.2 ? { headers: { traceparent: text(55), "x-b": Buffer.from(text(3)) } } : {}),
            };
          }),
        })),
      },
    ],
  };
}

describe("the lean produce request body", () => {
  it.each([1, 2, 3, 4, 5])("is kafkajs' body byte for byte (seed %i)", async (seed) => {
    const args = randomArgs(seed);
    const kafkajs = (await kafkajsProduceRequest()(args).encode()).buffer;
    const times = batchTimes(kafkajs, "runhooks.runs");
    expect(times).toHaveLength(args.topicData[0]!.partitions.length);
    const lean = encodeProduceBody(args, () => times.shift()!);
    expect(lean?.length).toBe(kafkajs.length);
    let differ = 0;
    while (differ < kafkajs.length && lean![differ] === kafkajs[differ]) differ++;
    expect(
      differ,
      kafkajs.subarray(Math.max(0, differ - 8), differ + 8).toString("hex") +
        " vs " +
        lean!.subarray(Math.max(0, differ - 8), differ + 8).toString("hex"),
    ).toBe(kafkajs.length);
  });

  it.each([
    ["compressed", { compression: 2 }],
    ["transactional", { transactionalId: "t" }],
  ])("leaves a %s request to kafkajs", (_name, extra) => {
    expect(encodeProduceBody({ ...randomArgs(9), ...extra }, Date.now)).toBeUndefined();
  });

  it("leaves a message with its own timestamp to kafkajs", () => {
    const args = randomArgs(10);
    const topic = args.topicData[0]!;
    const partition = topic.partitions[0]!;
    const messages = [{ ...partition.messages[0]!, timestamp: "1700000000000" }];
    expect(
      encodeProduceBody({ ...args, topicData: [{ ...topic, partitions: [{ ...partition, messages }] }] }, Date.now),
    ).toBeUndefined();
  });

  it("takes kafkajs' place for the produce request versions it sends (v3-v7)", async () => {
    expect(useLeanProduce()).toBe("lean");
    expect(useLeanProduce()).toBe("lean"); // idempotent
    for (const version of [3, 7]) {
      const request = require(`kafkajs/src/protocol/requests/produce/v${version}/request.js`) as ProduceRequest;
      const args = randomArgs(20 + version);
      const encoded = await request(args).encode();
      // The lean body is a buffer of its exact size (kafkajs' encoders grow by powers of two).
      expect(encoded.buf.length).toBe(encoded.offset);
      const times = batchTimes(encoded.buffer, "runhooks.runs");
      expect(
        firstDifference(
          encoded.buffer,
          encodeProduceBody(args, () => times.shift()!)!,
        ),
      ).toBe(-1);
      const kafkajs = await kafkajsProduceRequest()(args).encode();
      expect(kafkajs.buf.length).not.toBe(kafkajs.offset);
    }
  });
});
