import { describe, expect, it } from "vitest";
import {
  CONSUMER_NOT_STARTED,
  nextConsumerHealth,
  type ConsumerEvent,
  type ConsumerHealth,
} from "../src/consumer-health.js";

const run = (events: ConsumerEvent[]): ConsumerHealth => events.reduce(nextConsumerHealth, CONSUMER_NOT_STARTED);
const crash = (restart: boolean): ConsumerEvent => ({
  kind: "crashed",
  restart,
  error: "KafkaJSNumberOfRetriesExceeded",
});

describe("the windows consumer's health from its events", () => {
  it.each<[string, ConsumerEvent[], boolean, RegExp | undefined]>([
    ["not started yet", [], false, /has not started/],
    ["started", [{ kind: "started" }], true, undefined],
    [
      "crashed, kafkajs restarts it: unhealthy meanwhile",
      [{ kind: "started" }, crash(true)],
      false,
      /crashed .*being restarted/,
    ],
    ["crashed and rejoined: healthy again", [{ kind: "started" }, crash(true), { kind: "joined" }], true, undefined],
    [
      "crashed twice, rejoined: healthy",
      [{ kind: "started" }, crash(true), { kind: "joined" }, crash(true), { kind: "joined" }],
      true,
      undefined,
    ],
    [
      "crashed for good: stays unhealthy",
      [{ kind: "started" }, crash(false)],
      false,
      /not restarted.*restart the service/,
    ],
    [
      "crashed for good, then a stray join: still unhealthy",
      [{ kind: "started" }, crash(false), { kind: "joined" }],
      false,
      /not restarted/,
    ],
    ["stopped", [{ kind: "started" }, { kind: "stopped" }], false, /stopped/],
  ])("%s", (_name, events, running, problem) => {
    const health = run(events);
    expect(health.running).toBe(running);
    if (!health.running) expect(health.problem).toMatch(problem!);
  });
});
