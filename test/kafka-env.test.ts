import { apiOptionsFromEnv, readApiEnv } from "@runhooks/api";
import { backfillOptionsFromEnv, readBackfillEnv } from "@runhooks/backfill";
import { readConfig } from "@runhooks/cli";
import { deliveryOptionsFromEnv, readDeliveryEnv } from "@runhooks/delivery";
import { evaluatorOptionsFromEnv, readEvaluatorEnv } from "@runhooks/evaluator";
import { readInfraEnv } from "@runhooks/infra";
import { ingestOptionsFromEnv, readIngestEnv } from "@runhooks/ingest";
import { kafkaSecurityOf } from "@runhooks/kafka";
import { describe, expect, it } from "vitest";

const quiet = () => undefined;
const base = {
  KAFKA_BROKERS: "kafka-1.example:9096",
  DATABASE_URL: "postgres://runhooks@127.0.0.1:5432/runhooks",
  RUNHOOKS_SECRETS_KEY: "Xl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl4",
};
const PASSWORD = "pw-Sentinel-0d9e";
const secure = {
  ...base,
  KAFKA_TLS: "true",
  KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
  KAFKA_SASL_USERNAME: "runhooks-evaluator",
  KAFKA_SASL_PASSWORD: PASSWORD,
};
const expected = { tls: {}, sasl: { mechanism: "scram-sha-512", username: "runhooks-evaluator", password: PASSWORD } };

/** Every reader of the environment that builds a Kafka client, and the security it ends up with. */
const readers: [string, (env: Record<string, string>) => unknown][] = [
  ["api", (env) => apiOptionsFromEnv(readApiEnv(env)).kafkaSecurity],
  ["ingest", (env) => ingestOptionsFromEnv(readIngestEnv(env), quiet).kafkaSecurity],
  ["evaluator", (env) => evaluatorOptionsFromEnv(readEvaluatorEnv(env), quiet).kafkaSecurity],
  ["delivery", (env) => deliveryOptionsFromEnv(readDeliveryEnv(env), quiet).kafkaSecurity],
  ["backfill", (env) => backfillOptionsFromEnv(readBackfillEnv(env), quiet).kafkaSecurity],
  ["cli", (env) => readConfig(env).kafkaSecurity],
  // What startStack hands the admin client that creates the topics.
  ["infra", (env) => kafkaSecurityOf(readInfraEnv(env))],
];

function failure(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    return String(error);
  }
  return "(no error)";
}

describe("the Kafka security settings, read alike by every service, the CLI and infra", () => {
  it.each(readers)("%s: SASL_SSL as configured", (_name, read) => {
    expect(read(secure)).toEqual(expected);
    expect(read(base)).toBeUndefined();
  });

  it.each(readers)("%s: refuses an unknown mechanism, naming the variable and not the password", (_name, read) => {
    const message = failure(() => read({ ...secure, KAFKA_SASL_MECHANISM: "GSSAPI" }));
    expect(message).toMatch(/KAFKA_SASL_MECHANISM:? must be one of plain, scram-sha-256, scram-sha-512/);
    expect(message).not.toContain(PASSWORD);
  });

  it("infra refuses security settings for its own PLAINTEXT broker", () => {
    const { KAFKA_BROKERS: _brokers, ...local } = secure;
    expect(failure(() => readInfraEnv(local))).toMatch(/KAFKA_BROKERS: is unset.*SASL_SSL.*set KAFKA_BROKERS/);
    expect(readInfraEnv(secure).KAFKA_BROKERS).toEqual(["kafka-1.example:9096"]);
  });
});
