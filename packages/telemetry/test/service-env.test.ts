import { describe, expect, it } from "vitest";
import { ServiceEnv, parseEnv } from "@runhooks/telemetry";

const base = { KAFKA_BROKERS: "127.0.0.1:9092", DATABASE_URL: "postgres://runhooks@127.0.0.1:5432/runhooks" };

/** The sorted lines of the error parseEnv throws, or [] if it parses. */
function problems(env: Record<string, string>): string[] {
  try {
    parseEnv(ServiceEnv, env, "configuration");
    return [];
  } catch (error) {
    return (error as Error).message.split("\n").slice(1).sort();
  }
}

describe("the settings every service shares", () => {
  it("have their documented defaults", () => {
    const env = ServiceEnv.parse(base);
    expect(env).toMatchObject({
      KAFKA_BROKERS: ["127.0.0.1:9092"],
      RUNHOOKS_TOPIC_PREFIX: "runhooks",
      RUNHOOKS_DB_POOL_SIZE: 10,
      RUNHOOKS_LOG_LEVEL: "info",
    });
    expect(env.RUNHOOKS_INSTANCE_ID).toMatch(/^.+-\d+$/);
  });

  it("read a comma-separated broker list, blanks and spaces dropped", () => {
    expect(ServiceEnv.parse({ ...base, KAFKA_BROKERS: " a:9092, b:9092 ,," }).KAFKA_BROKERS).toEqual([
      "a:9092",
      "b:9092",
    ]);
  });

  it("say what to set when the brokers or the database are missing", () => {
    expect(problems({ KAFKA_BROKERS: "", DATABASE_URL: "" })).toEqual([
      "  DATABASE_URL: set DATABASE_URL to the runhooks database, e.g. postgres://user:pw@127.0.0.1:5432/runhooks",
      "  KAFKA_BROKERS: set KAFKA_BROKERS to the Kafka bootstrap servers, e.g. 127.0.0.1:9092",
    ]);
  });

  it.each([
    ["RUNHOOKS_TOPIC_PREFIX", "a prefix"],
    ["RUNHOOKS_INSTANCE_ID", ""],
    ["RUNHOOKS_DB_POOL_SIZE", "1"],
    ["RUNHOOKS_LOG_LEVEL", "trace"],
  ])("refuse %s=%j, naming it", (name, value) => {
    expect(problems({ ...base, [name]: value })).toEqual([expect.stringMatching(new RegExp(`^  ${name}: `))]);
  });

  it("carry the OTEL_* variables", () => {
    expect(
      ServiceEnv.parse({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }).OTEL_EXPORTER_OTLP_ENDPOINT,
    ).toBe("http://127.0.0.1:4318");
  });
});
