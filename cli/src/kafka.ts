import { createKafka } from "@runhooks/kafka";
import type { Kafka } from "kafkajs";
import type { CliConfig } from "./config.js";
import { CliError } from "./io.js";

/**
 * A Kafka client for the CLI: quiet (kafkajs' own logging off) and quick to give up, so an unreachable
 * broker becomes one clear message instead of half a minute of retries.
 */
export function cliKafka(config: CliConfig, clientId: string): Kafka {
  return createKafka({
    clientId,
    brokers: config.kafkaBrokers,
    security: config.kafkaSecurity,
    logLevel: "error",
    logger: () => undefined,
    connectionTimeoutMs: 3000,
    retry: { retries: 2, initialRetryTimeMs: 200, maxRetryTimeMs: 1000 },
  });
}

/** kafkajs' authorization refusals (its `type`), wherever in the cause chain they are. */
const AUTHORIZATION = /_AUTHORIZATION_FAILED$/;

function causes(error: unknown): { name?: unknown; type?: unknown }[] {
  const chain: { name?: unknown; type?: unknown }[] = [];
  for (let e = error; typeof e === "object" && e !== null && chain.length < 5; e = (e as { cause?: unknown }).cause) {
    chain.push(e);
  }
  return chain;
}

/** Runs `work` and turns a broker that cannot be reached into what to do about it. */
export async function withKafka<T>(config: CliConfig, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const { name, type } = error as { name?: unknown; type?: unknown };
    if (causes(error).some((e) => e.name === "KafkaJSSASLAuthenticationError")) {
      throw new CliError(
        `Kafka at ${config.kafkaBrokers.join(",")} refused the SASL credentials: check KAFKA_SASL_MECHANISM, ` +
          "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or their _FILE)",
      );
    }
    if (causes(error).some((e) => typeof e.type === "string" && AUTHORIZATION.test(e.type))) {
      throw new CliError(
        `Kafka refused this principal access (${(error as Error).message}): give it the ACLs ` +
          "`npm run infra -- acls` prints, or use a principal that has them",
      );
    }
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
      throw new CliError(
        `a topic with prefix ${config.topicPrefix} does not exist on ${config.kafkaBrokers.join(",")}: start runhooks once (\`npm start\`) ` +
          "to create its topics, or set RUNHOOKS_TOPIC_PREFIX to the prefix your installation uses",
      );
    }
    if (
      name === "KafkaJSConnectionError" ||
      name === "KafkaJSNumberOfRetriesExceeded" ||
      name === "KafkaJSNonRetriableError"
    ) {
      throw new CliError(
        `cannot reach Kafka at ${config.kafkaBrokers.join(",")} (${(error as Error).message}): start it with \`npm start\` ` +
          "(or `npm run infra -- up`), or set KAFKA_BROKERS to your cluster",
        "unavailable",
      );
    }
    throw error;
  }
}
