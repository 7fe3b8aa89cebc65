import kafkajs from "kafkajs";
import type { Kafka, Producer } from "kafkajs";
import { JavaCompatiblePartitioner, topicNames } from "@runhooks/kafka";

const { CompressionTypes } = kafkajs;

/** One run ready to send: its Kafka key (trace id, else id) and its exact JSON. */
export interface OutgoingRun {
  readonly id: string;
  readonly key: string;
  readonly json: string;
}

export interface RunsProducer {
  /**
   * Sends runs to `<prefix>.runs` (acks from all replicas) and returns, for each run id, its log time:
   * the broker's append time of the batch it landed in (the topic is LogAppendTime).
   */
  send(runs: readonly OutgoingRun[]): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/**
 * Picks each run's partition itself with kafkajs' default partitioner (the one a plain `send` uses, so
 * runs of a trace land where any other kafkajs producer would put them) and sends one batch per
 * partition: each partition's answer then carries the append time of every run in it.
 */
export async function openRunsProducer(kafka: Kafka, prefix: string): Promise<RunsProducer> {
  const topic = topicNames(prefix).runs;
  const admin = kafka.admin();
  await admin.connect();
  let partitionMetadata;
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    partitionMetadata = metadata.topics[0]?.partitions ?? [];
  } finally {
    await admin.disconnect();
  }
  const partitioner = JavaCompatiblePartitioner();
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async send(runs) {
      const messages = runs.map((run) => {
        const partition = partitioner({ topic, partitionMetadata, message: { key: run.key, value: run.json } });
        return { key: run.key, value: run.json, partition };
      });
      const answers = await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
      const appendTimes = new Map<number, number>();
      for (const a of answers) appendTimes.set(a.partition, Number(a.logAppendTime));
      const times = new Map<string, number>();
      runs.forEach((run, i) => {
        const time = appendTimes.get(messages[i]!.partition);
        if (time !== undefined && time >= 0) times.set(run.id, time);
      });
      return times;
    },
    close: () => producer.disconnect(),
  };
}
