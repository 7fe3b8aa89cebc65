import { RunhooksError } from "@runhooks/errors";
import { acknowledgedWithin } from "@runhooks/kafka";
import type { Logger } from "@runhooks/telemetry";
import kafkajs, { type EachBatchPayload, type Message, type Producer } from "kafkajs";
import type { RuleOwner } from "@runhooks/db";
import type { Counters } from "./counters.js";
import type { RuleOwnerCache } from "./rule-owner-cache.js";
import type { DecodedBatch, PartInput, WatermarkInput } from "./window-batch.js";
import { deadLetter, deadLetterSends, screenInputs } from "./window-dead-letter.js";

// kafkajs is CommonJS and its enums are not visible as ESM named exports under Node.
const { CompressionTypes } = kafkajs;

export interface WindowScreenOptions {
  readonly owners: RuleOwnerCache;
  readonly producer: Producer;
  /** `runhooks.windows.dlq`. */
  readonly deadLetterTopic: string;
  readonly log: Logger;
  readonly counters: Counters;
  readonly onDatabase: (ok: boolean) => void;
}

/** Kafka did not acknowledge the dead letters in time: the batch is read again. */
export class DeadLetterTimeoutError extends RunhooksError {
  readonly code = "dead_letter_timeout";
  readonly retriable = true;
  override readonly name = "DeadLetterTimeoutError";
}

/** How long to wait for Kafka to acknowledge the dead letters before the batch is given up (and read again). */
const DEAD_LETTER_TIMEOUT_MS = 10_000;

/**
 * Checks a decoded batch against the rule store and dead-letters what does not check out (and what was
 * invalid), before anything of it is folded: a refused part never joins a window, so it can neither be
 * delivered nor hold up a genuine one. The dead letters are acknowledged before this returns, so the
 * batch's offset is committed only once they are on the dead-letter topic; a failure throws, and the
 * batch is read again (a dead letter may then be written twice). Undefined when the batch was given up
 * while Postgres was unreachable (the consumer stops, or the partition was taken away).
 */
export async function screenBatch(
  o: WindowScreenOptions,
  payload: Pick<EachBatchPayload, "batch" | "heartbeat" | "isRunning" | "isStale">,
  decoded: DecodedBatch,
): Promise<(PartInput | WatermarkInput)[] | undefined> {
  const { batch } = payload;
  const claims = decoded.inputs.filter((i): i is PartInput => i.kind === "part");
  const owners = claims.length === 0 ? new Map<string, RuleOwner>() : await ownersOf(o, payload, claims);
  if (owners === undefined) return undefined;
  const { inputs, refused } = screenInputs(decoded.inputs, decoded.invalid, owners, decoded.bundled);
  if (refused.length === 0) return inputs;
  const byOffset = new Map(batch.messages.map((m) => [m.offset, m]));
  const now = new Date();
  const messages: Message[] = refused.map((r) => {
    const message = byOffset.get(r.offset);
    return {
      key: r.part?.key ?? message?.key ?? null,
      value: JSON.stringify(deadLetter(r, r.part?.value ?? message?.value ?? null, batch, now)),
    };
  });
  // Compressed (the codecs createKafka registers), and in sends the broker takes: a dead letter keeps
  // its whole message as base64, so a few of them together outgrow one record batch.
  for (const chunk of deadLetterSends(messages)) {
    const send = o.producer.send({
      topic: o.deadLetterTopic,
      acks: -1,
      compression: CompressionTypes.Snappy,
      messages: chunk,
    });
    await acknowledgedWithin(
      send,
      DEAD_LETTER_TIMEOUT_MS,
      () => new DeadLetterTimeoutError(`${o.deadLetterTopic} did not acknowledge within ${DEAD_LETTER_TIMEOUT_MS} ms`),
    );
  }
  for (const r of refused) {
    o.counters.windowsDeadLettered[r.reason] = (o.counters.windowsDeadLettered[r.reason] ?? 0) + 1;
    o.log(r.reason === "invalid" ? "error" : "warn", "window message refused; dead-lettered", {
      topic: batch.topic,
      ...(r.part === undefined ? {} : { bundled: true }),
      partition: batch.partition,
      offset: r.offset,
      reason: r.reason,
      error: r.error,
      ...(r.claim === undefined ? {} : { ruleId: r.claim.ruleId, ruleVersion: r.claim.ruleVersion }),
    });
  }
  return inputs;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The claims' owners, asked again (heartbeating) while Postgres is unreachable; undefined to give up. */
async function ownersOf(
  o: WindowScreenOptions,
  payload: Pick<EachBatchPayload, "batch" | "heartbeat" | "isRunning" | "isStale">,
  claims: readonly PartInput[],
): Promise<ReadonlyMap<string, RuleOwner> | undefined> {
  for (let attempt = 1; ; attempt++) {
    if (!payload.isRunning() || payload.isStale()) return undefined;
    try {
      const owners = await o.owners.owners(claims);
      o.onDatabase(true);
      return owners;
    } catch (error) {
      o.counters.databaseErrors++;
      o.onDatabase(false);
      o.log(attempt === 1 ? "warn" : "debug", "could not check windows against the rule store; retrying", {
        partition: payload.batch.partition,
        attempt,
        error: String(error),
      });
      await sleep(Math.min(2000, 100 * attempt));
      await payload.heartbeat().catch(() => undefined);
    }
  }
}
