import { describe, expect, it } from "vitest";
import { readApiEnv } from "../src/env.js";
import { DEFAULT_API_LIMITS } from "../src/limits.js";
import { apiOptionsFromEnv } from "../src/options.js";

const base = {
  DATABASE_URL: "postgres://u:p@127.0.0.1:5432/db",
  KAFKA_BROKERS: "127.0.0.1:9092, 127.0.0.1:9093",
  RUNHOOKS_SECRETS_KEY: "Xl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl4",
};

describe("the API's configuration", () => {
  it("maps the environment's defaults to the API's options", () => {
    expect(apiOptionsFromEnv(readApiEnv(base))).toEqual({
      databaseUrl: base.DATABASE_URL,
      kafkaBrokers: ["127.0.0.1:9092", "127.0.0.1:9093"],
      topicPrefix: "runhooks",
      host: "127.0.0.1",
      port: 8080,
      adminKey: undefined,
      logger: { level: "info" },
      relay: true,
      ruleErrors: {},
      otel: expect.any(Object) as unknown,
      limits: DEFAULT_API_LIMITS,
      dryRun: { maxRuns: 1000, maxBytes: 4 * 1024 * 1024, maxSteps: 2_000_000 },
      rateLimit: { ratePerSecond: 100, burst: 1000 },
      wrongKeyCacheMs: 5000,
      secrets: expect.any(Object) as unknown,
    });
  });

  it("refuses to start without the secrets key, saying which variable to set", () => {
    const { RUNHOOKS_SECRETS_KEY: _key, ...keyless } = base;
    expect(() => apiOptionsFromEnv(readApiEnv(keyless))).toThrow(/RUNHOOKS_SECRETS_KEY is required/);
  });

  it("takes every setting it is given, and the caller's logger over the level", () => {
    const options = apiOptionsFromEnv(
      readApiEnv({
        ...base,
        RUNHOOKS_TOPIC_PREFIX: "staging",
        RUNHOOKS_API_PORT: "0",
        RUNHOOKS_ADMIN_KEY: "admin-0123456789abcdef",
        RUNHOOKS_API_RELAY: "false",
        RUNHOOKS_API_RULE_ERRORS_GROUP: "errors",
        RUNHOOKS_API_DRY_RUN_MAX_RUNS: "10",
        RUNHOOKS_API_RATE_PER_S: "2.5",
        RUNHOOKS_LOG_LEVEL: "debug",
      }),
      { level: "warn" },
    );
    expect(options).toMatchObject({
      topicPrefix: "staging",
      port: 0,
      adminKey: "admin-0123456789abcdef",
      logger: { level: "warn" },
      relay: false,
      ruleErrors: { groupId: "errors" },
      dryRun: { maxRuns: 10 },
      rateLimit: { ratePerSecond: 2.5 },
    });
  });

  it("turns the rule-errors consumer off", () => {
    expect(apiOptionsFromEnv(readApiEnv({ ...base, RUNHOOKS_API_RULE_ERRORS: "false" })).ruleErrors).toBe(false);
  });

  it("names every setting it cannot read, each with its message", () => {
    const error = (() => {
      try {
        readApiEnv({
          DATABASE_URL: "not a url",
          KAFKA_BROKERS: "",
          RUNHOOKS_API_PORT: "http",
          RUNHOOKS_LOG_LEVEL: "trace",
        });
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    })();
    expect(error.split("\n").sort()).toEqual([
      "  DATABASE_URL: must be a postgres:// URL",
      "  KAFKA_BROKERS: Too small: expected string to have >=1 characters",
      "  RUNHOOKS_API_PORT: Invalid input: expected number, received NaN",
      "invalid environment:",
    ]);
  });
});
