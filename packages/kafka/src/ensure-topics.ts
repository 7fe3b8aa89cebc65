import { isRetriable } from "@runhooks/errors";
import kafkajs, { type Admin } from "kafkajs";

// kafkajs is CommonJS and its enums are not visible as ESM named exports under Node.
const { ConfigResourceTypes, ConfigSource } = kafkajs;
import type { TopicSpec } from "./topics.js";

/** A declared setting that an existing topic does not have. */
export interface TopicMismatch {
  readonly topic: string;
  readonly setting: string;
  readonly expected: string;
  readonly actual: string;
}

export interface EnsureTopicsReport {
  readonly created: readonly string[];
  readonly verified: readonly string[];
  readonly mismatches: readonly TopicMismatch[];
}

/**
 * Creates missing topics and checks existing ones against their declaration. A mismatch is reported,
 * not repaired: changing partitions or cleanup policy of a live topic is an operator's decision.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  options: { replicationFactor?: number } = {},
): Promise<EnsureTopicsReport> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length > 0) {
    await admin.createTopics({
      // kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION while metadata propagates.
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.numPartitions,
        replicationFactor: options.replicationFactor ?? -1,
        configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForTopics(
      admin,
      missing.map((s) => s.name),
    );
  }
  const present = specs.filter((s) => existing.has(s.name));
  const mismatches = present.length > 0 ? await compareTopics(admin, present) : [];
  return {
    created: missing.map((s) => s.name),
    verified: present.map((s) => s.name),
    mismatches,
  };
}

async function compareTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<TopicMismatch[]> {
  const mismatches: TopicMismatch[] = [];
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  const partitionsByTopic = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({
      type: ConfigResourceTypes.TOPIC,
      name: s.name,
      configNames: Object.keys(s.config),
    })),
  });
  const configByTopic = new Map(
    described.resources.map((r) => [
      r.resourceName,
      new Map(r.configEntries.map((e) => [e.configName, e.configValue])),
    ]),
  );
  for (const spec of specs) {
    const partitions = partitionsByTopic.get(spec.name) ?? 0;
    if (partitions !== spec.numPartitions) {
      mismatches.push({
        topic: spec.name,
        setting: "partitions",
        expected: String(spec.numPartitions),
        actual: String(partitions),
      });
    }
    const actual = configByTopic.get(spec.name);
    for (const [setting, expected] of Object.entries(spec.config)) {
      const value = actual?.get(setting) ?? "(unset)";
      if (value !== expected) mismatches.push({ topic: spec.name, setting, expected, actual: value });
    }
  }
  return mismatches;
}

/**
 * Sets each mismatched setting on its topic to the declared value. AlterConfigs replaces a topic's settings whole (kafkajs has no
 * incremental form), so the topic's own settings are read first and written back with the new ones.
 */
export async function setTopicSettings(admin: Admin, settings: readonly TopicMismatch[]): Promise<void> {
  const topics = [...new Set(settings.map((m) => m.topic))];
  if (topics.length === 0) return;
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  await admin.alterConfigs({
    validateOnly: false,
    resources: topics.map((name) => {
      const own = new Map(
        (described.resources.find((r) => r.resourceName === name)?.configEntries ?? [])
          .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
          .map((e) => [e.configName, e.configValue]),
      );
      for (const m of settings) if (m.topic === name) own.set(m.setting, m.expected);
      return {
        type: ConfigResourceTypes.TOPIC,
        name,
        configEntries: [...own].map(([name, value]) => ({ name, value })),
      };
    }),
  });
}

export function describeMismatch(m: TopicMismatch): string {
  return `topic ${m.topic}: ${m.setting} is ${m.actual}, expected ${m.expected}`;
}

/**
 * Waits until every partition of the topics has a leader that serves it: a topic just created is not
 * usable at once, and producing to it early fails with UNKNOWN_TOPIC_OR_PARTITION — or, once the
 * metadata names a leader but that broker has not taken the partition on yet, NOT_LEADER_OR_FOLLOWER,
 * which kafkajs answers by sending the whole request again, so the partitions that had taken their
 * messages append them twice. Listing offsets, which only a serving leader answers, is the proof.
 */
export async function waitForTopics(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready = metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) {
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (error) {
      if (!isRetriable(error)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(", ")} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
