import { markAttemptsPublished, type Database } from "@runhooks/db";
import type { Producer } from "kafkajs";
import { attemptMessage, type AttemptFacts } from "./attempt-message.js";
import type { Counters } from "./counters.js";
import type { Logger } from "@runhooks/telemetry";

export interface PublishableAttempt extends AttemptFacts {
  /** The attempt's row id, marked published once Kafka has the message. */
  readonly rowId: bigint;
}

export interface Publisher {
  /** Queues attempts for the attempts topic; never throws (what fails is left to the sweeper). */
  publish(attempts: readonly PublishableAttempt[]): void;
  /** Sends to Kafka now, without marking rows (the caller does); throws if Kafka fails. */
  produce(attempts: readonly AttemptFacts[]): Promise<void>;
  /** Waits for what is queued. */
  drain(): Promise<void>;
  readonly backlog: number;
}

/**
 * Publishes recorded attempts to `runhooks.attempts`, in order, one batch at a time, and marks their
 * rows published. The rows are written first, so a crash in between loses no record: the sweeper
 * (`publishStragglers`) publishes rows left unmarked, at least once.
 */
export function createPublisher(o: {
  readonly db: Database;
  readonly producer: Producer;
  readonly topic: string;
  readonly log: Logger;
  readonly counters: Counters;
  /** Most attempts waiting in memory; beyond it they are left to the sweeper. */
  readonly maxBacklog: number;
  /** How often rows whose message was sent are marked published. */
  readonly markEveryMs: number;
}): Publisher {
  let queue: PublishableAttempt[] = [];
  let running: Promise<void> | undefined;
  let dropped = 0;
  /** Rows whose message Kafka has: marked in one statement every `markEveryMs`, not one per send. */
  let unmarked: bigint[] = [];
  let marking: Promise<void> | undefined;
  let markTimer: NodeJS.Timeout | undefined;

  async function mark(): Promise<void> {
    while (unmarked.length > 0) {
      const ids = unmarked;
      unmarked = [];
      try {
        await markAttemptsPublished(o.db, ids);
      } catch (error) {
        // Left unmarked, the sweeper publishes them once more later: at least once, never lost.
        o.log("debug", "could not mark attempts published", { attempts: ids.length, error: String(error) });
      }
    }
  }

  function scheduleMark(): void {
    markTimer ??= setTimeout(() => {
      markTimer = undefined;
      // A mark already running takes these too: it loops until nothing is left.
      marking ??= mark().finally(() => {
        marking = undefined;
      });
    }, o.markEveryMs);
  }

  async function produce(attempts: readonly AttemptFacts[]): Promise<void> {
    if (attempts.length === 0) return;
    await o.producer.send({
      topic: o.topic,
      acks: -1,
      messages: attempts.map((a) => ({ key: a.deliveryId, value: JSON.stringify(attemptMessage(a)) })),
    });
    o.counters.attemptsPublished += attempts.length;
  }

  async function send(attempts: readonly PublishableAttempt[]): Promise<void> {
    await produce(attempts);
    for (const a of attempts) unmarked.push(a.rowId);
    scheduleMark();
  }

  async function loop(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, 1000);
      queue = queue.slice(batch.length);
      try {
        await send(batch);
      } catch (error) {
        o.counters.publishFailures += batch.length;
        o.log("warn", "could not publish attempts; the sweeper will", { attempts: batch.length, error: String(error) });
      }
    }
  }

  return {
    publish(attempts) {
      const room = o.maxBacklog - queue.length;
      if (room < attempts.length) {
        dropped += attempts.length - Math.max(room, 0);
        if (dropped === attempts.length - Math.max(room, 0)) {
          o.log("warn", "attempts topic backlog full; leaving attempts to the sweeper", { backlog: queue.length });
        }
      }
      queue.push(...attempts.slice(0, Math.max(room, 0)));
      running ??= loop().finally(() => {
        running = undefined;
      });
    },
    produce,
    async drain() {
      while (running) await running;
      if (markTimer) clearTimeout(markTimer);
      while (marking) await marking;
      await mark();
    },
    get backlog() {
      return queue.length;
    },
  };
}
