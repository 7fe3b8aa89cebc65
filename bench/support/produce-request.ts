// A flush's sends encoded as kafkajs encodes each produce request (Snappy through runhooks' codec,
// sliced values, native CRC32C), without a broker: what publishing costs the evaluator's thread.
import { createRequire } from "node:module";
import kafkajs from "kafkajs";
import { useLeanEncoder, useNativeCrc32C, useSnappy } from "@runhooks/kafka";

const require = createRequire(import.meta.url);
useSnappy();
useNativeCrc32C();
useLeanEncoder();
type Request = { encode(): Promise<{ buffer: Buffer }> };
const produceRequest = require("kafkajs/src/protocol/requests/produce/v3/request.js") as (o: unknown) => Request;

interface Send {
  readonly topic: string;
  readonly messages: readonly { readonly partition?: number }[];
}

/** Encodes one send (`byteBudgetChunks`' chunk) over `partitions` partitions; its bytes on the wire. */
export async function encodedBytes(chunk: readonly Send[], partitions: number): Promise<number> {
  const request = produceRequest({
    acks: -1,
    timeout: 30000,
    compression: kafkajs.CompressionTypes.Snappy,
    topicData: chunk.map(({ topic, messages }) => ({
      topic,
      partitions: Array.from({ length: partitions }, (_, p) => ({
        partition: p,
        messages: messages.filter((m) => m.partition === p),
      })).filter((p) => p.messages.length > 0),
    })),
  });
  return (await request.encode()).buffer.length;
}
