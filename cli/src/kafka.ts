import kafkajs from "kafkajs";
import type { Kafka } from "kafkajs";
import type { CliConfig } from "./config.js";
import { CliError } from "./io.js";

const { Kafka: KafkaClient, logLevel } = kafkajs;

/**
 * A Kafka client for the CLI: quiet (kafkajs' own logging off) and quick to give up, so an unreachable
 * broker becomes one clear message instead of half a minute of retries.
 */
export function cliKafka(config: CliConfig, clientId: string): Kafka {
  return new KafkaClient({
    clientId,
    brokers: [...config.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
  });
}

/** Runs `work` and turns a broker that cannot be reached into what to do about it. */
export async function withKafka<T>(config: CliConfig, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const { name, type } = error as { name?: unknown; type?: unknown };
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
