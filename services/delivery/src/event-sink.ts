import type { Logger } from "@runhooks/telemetry";
import type { Producer } from "kafkajs";
import type { EventSink } from "./health-keeper.js";

/**
 * Produces operational events to `<prefix>.events`, keyed by webhook id (a webhook's events stay in
 * order). Best effort: the record is Postgres (deliveries, webhook_health); an event Kafka refuses is
 * logged, not retried.
 */
export function createEventSink(o: {
  readonly producer: Producer;
  readonly topic: string;
  readonly log: Logger;
}): EventSink {
  return {
    async emit(events) {
      if (events.length === 0) return;
      try {
        await o.producer.send({
          topic: o.topic,
          acks: -1,
          messages: events.map((e) => ({ key: e.webhook_id, value: JSON.stringify(e) })),
        });
      } catch (error) {
        o.log("warn", "could not produce operational events", { events: events.length, error: String(error) });
      }
    },
  };
}
