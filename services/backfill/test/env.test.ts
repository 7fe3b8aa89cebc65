import { describe, expect, it } from "vitest";
import { backfillOptionsFromEnv, readBackfillEnv } from "@runhooks/backfill";

const base = {
  KAFKA_BROKERS: "127.0.0.1:9092",
  DATABASE_URL: "postgres://runhooks@127.0.0.1:5432/runhooks",
  RUNHOOKS_SECRETS_KEY: "Xl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl4",
  RUNHOOKS_BACKFILL_PORT: "-1",
};
const options = (extra: Record<string, string>) =>
  backfillOptionsFromEnv(readBackfillEnv({ ...base, ...extra }), () => undefined);

describe("backfill configuration", () => {
  it("leaves the evaluators' group to the prefix when RUNHOOKS_EVALUATOR_GROUP is unset (resolved as they resolve it)", () => {
    const unset = options({ RUNHOOKS_TOPIC_PREFIX: "staging" });
    expect(unset.topicPrefix).toBe("staging");
    expect(unset.evaluatorGroup).toBeUndefined();
  });

  it("takes the evaluators' group when set", () => {
    expect(options({ RUNHOOKS_TOPIC_PREFIX: "staging", RUNHOOKS_EVALUATOR_GROUP: "shared" }).evaluatorGroup).toBe(
      "shared",
    );
    expect(() => readBackfillEnv({ ...base, RUNHOOKS_EVALUATOR_GROUP: "" })).toThrow(/RUNHOOKS_EVALUATOR_GROUP/);
  });
});
