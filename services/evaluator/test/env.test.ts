import { describe, expect, it } from "vitest";
import {
  DEFAULT_EVALUATOR_GROUP,
  evaluatorGroup,
  evaluatorOptionsFromEnv,
  readEvaluatorEnv,
} from "@runhooks/evaluator";

const base = { KAFKA_BROKERS: "127.0.0.1:9092" };

describe("evaluator configuration", () => {
  it("needs no database, and takes the shared settings", () => {
    const env = readEvaluatorEnv({ ...base, RUNHOOKS_TOPIC_PREFIX: "staging", RUNHOOKS_INSTANCE_ID: "e1" });
    expect(env).not.toHaveProperty("DATABASE_URL");
    expect(evaluatorOptionsFromEnv(env, () => undefined)).toMatchObject({
      brokers: ["127.0.0.1:9092"],
      topicPrefix: "staging",
      instanceId: "e1",
      sessionTimeoutMs: 10_000,
      http: { host: "127.0.0.1", port: 8081 },
      traceHorizonSeconds: 300,
      traceLimits: { maxTraces: 100_000, maxHeldBytes: 64 * 1024 * 1024 },
    });
  });

  it("leaves the group to the prefix when RUNHOOKS_EVALUATOR_GROUP is unset, and takes it when set", () => {
    const unset = evaluatorOptionsFromEnv(
      readEvaluatorEnv({ ...base, RUNHOOKS_TOPIC_PREFIX: "staging" }),
      () => undefined,
    );
    expect(unset.groupId).toBeUndefined();
    expect(evaluatorGroup(unset.topicPrefix)).toBe("staging-evaluator");
    // The default prefix keeps the default group's name.
    expect(evaluatorGroup(readEvaluatorEnv(base).RUNHOOKS_TOPIC_PREFIX)).toBe("runhooks-evaluator");
    expect(DEFAULT_EVALUATOR_GROUP).toBe("runhooks-evaluator");
    const set = readEvaluatorEnv({ ...base, RUNHOOKS_TOPIC_PREFIX: "staging", RUNHOOKS_EVALUATOR_GROUP: "shared" });
    expect(evaluatorOptionsFromEnv(set, () => undefined).groupId).toBe("shared");
    expect(() => readEvaluatorEnv({ ...base, RUNHOOKS_EVALUATOR_GROUP: "" })).toThrow(/RUNHOOKS_EVALUATOR_GROUP/);
  });

  it("takes the trace horizon and the trace fold's bounds, within their limits", () => {
    const env = readEvaluatorEnv({
      ...base,
      RUNHOOKS_TRACE_HORIZON_SECONDS: "900",
      RUNHOOKS_MAX_OPEN_TRACES: "5000",
      RUNHOOKS_MAX_HELD_RUN_BYTES: String(16 * 1024 * 1024),
    });
    expect(evaluatorOptionsFromEnv(env, () => undefined)).toMatchObject({
      traceHorizonSeconds: 900,
      traceLimits: { maxTraces: 5000, maxHeldBytes: 16 * 1024 * 1024 },
    });
    expect(() => readEvaluatorEnv({ ...base, RUNHOOKS_TRACE_HORIZON_SECONDS: "3601" })).toThrow(
      /RUNHOOKS_TRACE_HORIZON_SECONDS/,
    );
  });

  it.each([
    // [RUNHOOKS_WINDOWS_BUNDLES, windowsBundles]
    [undefined, true],
    ["", true],
    ["true", true],
    ["1", true],
    ["false", false],
    ["0", false],
  ])("RUNHOOKS_WINDOWS_BUNDLES=%s publishes bundles: %s", (value, bundles) => {
    const env = readEvaluatorEnv(value === undefined ? base : { ...base, RUNHOOKS_WINDOWS_BUNDLES: value });
    expect(evaluatorOptionsFromEnv(env, () => undefined).windowsBundles).toBe(bundles);
  });

  it.each(["yes", "off", "2"])("refuses RUNHOOKS_WINDOWS_BUNDLES=%j", (value) => {
    expect(() => readEvaluatorEnv({ ...base, RUNHOOKS_WINDOWS_BUNDLES: value })).toThrow(/RUNHOOKS_WINDOWS_BUNDLES/);
  });

  it("names the settings it cannot read, shared and its own", () => {
    expect(() => readEvaluatorEnv({ KAFKA_BROKERS: "", RUNHOOKS_SESSION_TIMEOUT_MS: "100" })).toThrow(
      /KAFKA_BROKERS: set KAFKA_BROKERS[\s\S]*RUNHOOKS_SESSION_TIMEOUT_MS/,
    );
  });
});
