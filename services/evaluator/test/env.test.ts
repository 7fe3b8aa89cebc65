import { describe, expect, it } from "vitest";
import { evaluatorOptionsFromEnv, readEvaluatorEnv } from "@runhooks/evaluator";

const base = { KAFKA_BROKERS: "127.0.0.1:9092" };

describe("evaluator configuration", () => {
  it("needs no database, and takes the shared settings", () => {
    const env = readEvaluatorEnv({ ...base, RUNHOOKS_TOPIC_PREFIX: "staging", RUNHOOKS_INSTANCE_ID: "e1" });
    expect(env).not.toHaveProperty("DATABASE_URL");
    expect(evaluatorOptionsFromEnv(env, () => undefined)).toMatchObject({
      brokers: ["127.0.0.1:9092"],
      topicPrefix: "staging",
      instanceId: "e1",
      groupId: "runhooks-evaluator",
      sessionTimeoutMs: 10_000,
      http: { host: "127.0.0.1", port: 8081 },
    });
  });

  it("names the settings it cannot read, shared and its own", () => {
    expect(() => readEvaluatorEnv({ KAFKA_BROKERS: "", RUNHOOKS_SESSION_TIMEOUT_MS: "100" })).toThrow(
      /KAFKA_BROKERS: set KAFKA_BROKERS[\s\S]*RUNHOOKS_SESSION_TIMEOUT_MS/,
    );
  });
});
