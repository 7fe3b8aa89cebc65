import { RunhooksError } from "@runhooks/errors";
import { acknowledgedWithin } from "@runhooks/kafka";
import type { Producer } from "kafkajs";
import { attemptMessage, type AttemptFacts } from "./attempt-message.js";
import type { Counters } from "./counters.js";

export interface Publisher {
  /** Sends attempts to the attempts topic (acks all); throws if Kafka fails or does not answer in time. */
  produce(attempts: readonly AttemptFacts[]): Promise<void>;
}

/** Kafka did not acknowledge the attempts in time: they are recorded unpublished, for the sweeper. */
export class PublishTimeoutError extends RunhooksError {
  readonly code = "publish_timeout";
  readonly retriable = true;
  override readonly name = "PublishTimeoutError";
}

/**
 * Publishes attempts to `runhooks.attempts`, keyed by delivery id. The recorder publishes an attempt
 * before it writes its row, so the row is written once, already marked published; what could not be
 * published is recorded unpublished and the sweeper (`publishStragglers`) publishes it later.
 */
export function createPublisher(o: {
  readonly producer: Producer;
  readonly topic: string;
  readonly counters: Counters;
  /** How long to wait for Kafka before recording the attempts unpublished. */
  readonly timeoutMs: number;
}): Publisher {
  return {
    async produce(attempts) {
      if (attempts.length === 0) return;
      const send = o.producer.send({
        topic: o.topic,
        acks: -1,
        messages: attempts.map((a) => ({ key: a.deliveryId, value: JSON.stringify(attemptMessage(a)) })),
      });
      // A send that loses the race may still land: its rows are then published twice (at least once).
      await acknowledgedWithin(
        send,
        o.timeoutMs,
        () => new PublishTimeoutError(`Kafka did not acknowledge within ${o.timeoutMs} ms`),
      );
      o.counters.attemptsPublished += attempts.length;
    },
  };
}
