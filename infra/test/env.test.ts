import { describe, expect, it } from "vitest";
import { readInfraEnv } from "@runhooks/infra";

describe("the infra environment", () => {
  it("takes an empty folder setting as unset (so `VAR= npm test` clears it)", () => {
    const env = readInfraEnv({ RUNHOOKS_STATE_DIR: "", RUNHOOKS_KAFKA_CACHE_DIR: "" });
    expect(env.RUNHOOKS_STATE_DIR).toBeUndefined();
    expect(env.RUNHOOKS_KAFKA_CACHE_DIR).toBeUndefined();
  });

  it("keeps folders that are set, and the defaults of the rest", () => {
    const env = readInfraEnv({ RUNHOOKS_STATE_DIR: "/tmp/rh-state", RUNHOOKS_KAFKA_CACHE_DIR: "/tmp/rh-kafka" });
    expect(env).toMatchObject({
      RUNHOOKS_STATE_DIR: "/tmp/rh-state",
      RUNHOOKS_KAFKA_CACHE_DIR: "/tmp/rh-kafka",
      RUNHOOKS_KAFKA_PORT: 9092,
    });
  });
});
