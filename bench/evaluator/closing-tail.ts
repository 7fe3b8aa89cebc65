// The runs that end an evaluator bench's topic: produced once the broker's clock has passed the end of
// the window the last measured run fell in, by a tenant without rules, spread evenly over the
// partitions. Reading a partition's first tail run closes every window of that partition, so each
// round publishes every part of the measured runs within its span, the same parts in every round
// (the evaluators run without idle ticks, which would close a partition's windows only when it
// happened to finish early).
import { randomUUID } from "node:crypto";
import type { Producer } from "kafkajs";
import { run } from "./scale-data.js";

/** Idle ticks off for the length of a bench: the tail closes the windows instead. */
export const NO_TICKS_MS = 3_600_000;

/** Tail runs for `runs` measured runs: a tenth of them, read and timed like the rest. */
export const tailOf = (runs: number): number => Math.ceil(runs / 10);

export async function produceClosingTail(
  producer: Producer,
  topic: string,
  partitions: number,
  count: number,
  windowMs: number,
): Promise<void> {
  // Past the next window boundary (append times are this machine's clock), with a margin.
  await new Promise((r) => setTimeout(r, windowMs - (Date.now() % windowMs) + 200));
  const outsider = [randomUUID()];
  for (let i = 0; i < count; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({
      partition: (i + k) % partitions,
      value: run(i + k, outsider),
    }));
    await producer.send({ topic, acks: -1, messages });
  }
}
