/**
 * The one place that declares every runhooks topic and its configuration (DESIGN.md §2).
 * Topic names share a prefix (default `runhooks`) so several installations, or test runs, can share
 * a cluster without seeing each other.
 */

/** A rules version must stay readable for replays well past the longest window (24 h). */
const RULES_MIN_COMPACTION_LAG_MS = 24 * 60 * 60 * 1000;

/**
 * A trace snapshot stays readable for a while after a newer one of its runs partition was written, so
 * that the commit naming it, made just before, still finds it (DESIGN.md §4, restart); segments roll
 * hourly, so superseded snapshots are compacted away within about an hour and a half.
 */
const TRACES_MIN_COMPACTION_LAG_MS = 10 * 60 * 1000;
const TRACES_SEGMENT_MS = 60 * 60 * 1000;

/**
 * The largest dead letter of `runhooks.windows.dlq`: a windows message is at most one record batch of
 * the broker's default `message.max.bytes` (1,048,588 bytes), kept as base64 (4 characters per 3
 * bytes: 1,398,120), plus its envelope (fixed fields, a rule id key, an error of at most 4096
 * characters, record framing: under 16 KiB). 1,414,504 bytes.
 */
export const WINDOWS_DLQ_MAX_MESSAGE_BYTES = 4 * Math.ceil(1_048_588 / 3) + 16 * 1024;

export interface TopicSpec {
  readonly name: string;
  readonly numPartitions: number;
  /** Broker-side configs that must hold; compared on every start. */
  readonly config: Readonly<Record<string, string>>;
  readonly purpose: string;
}

export interface TopicNames {
  readonly runs: string;
  readonly runsDlq: string;
  readonly rules: string;
  readonly windows: string;
  /** Windows delivery does not accept (invalid, or not matching the rule store), with the reason. */
  readonly windowsDlq: string;
  readonly attempts: string;
  readonly ruleErrors: string;
  readonly events: string;
  /** The evaluator's trace snapshots: the open traces of each runs partition at a checkpoint. */
  readonly traces: string;
}

export interface TopicOptions {
  /** Defaults to `runhooks`. */
  readonly prefix?: string;
  /** Partitions of the runs topic, which bound evaluator parallelism. Defaults to 6. */
  readonly runsPartitions?: number;
  /** Partitions of the windows, attempts and rule-errors topics, which bound delivery parallelism. Defaults to 6. */
  readonly deliveryPartitions?: number;
  /**
   * Partitions of the windows topic; defaults to `deliveryPartitions`. Fixed once windows flow: the
   * parts of a rule's window are merged in the one partition its rule id hashes to.
   */
  readonly windowsPartitions?: number;
}

/** RUNHOOKS_TOPIC_PREFIX when unset. */
export const DEFAULT_TOPIC_PREFIX = "runhooks";

export function topicNames(prefix = DEFAULT_TOPIC_PREFIX): TopicNames {
  return {
    runs: `${prefix}.runs`,
    runsDlq: `${prefix}.runs.dlq`,
    rules: `${prefix}.rules`,
    windows: `${prefix}.windows`,
    windowsDlq: `${prefix}.windows.dlq`,
    attempts: `${prefix}.attempts`,
    ruleErrors: `${prefix}.rule-errors`,
    events: `${prefix}.events`,
    traces: `${prefix}.traces`,
  };
}

export function topicSpecs(options: TopicOptions = {}): TopicSpec[] {
  const names = topicNames(options.prefix);
  const runsPartitions = options.runsPartitions ?? 6;
  const deliveryPartitions = options.deliveryPartitions ?? 6;
  return [
    {
      name: names.runs,
      numPartitions: runsPartitions,
      // Window time is the broker's append time, never a producer's clock (DESIGN.md §4).
      config: { "message.timestamp.type": "LogAppendTime", "cleanup.policy": "delete" },
      purpose: "runs from producers and ingest, keyed by trace id; evaluator ticks",
    },
    {
      name: names.runsDlq,
      numPartitions: runsPartitions,
      config: { "cleanup.policy": "delete" },
      purpose: "messages the evaluator could not accept, with the reason and original bytes",
    },
    {
      name: names.rules,
      // One partition: rule versions are totally ordered by append time.
      numPartitions: 1,
      config: {
        "message.timestamp.type": "LogAppendTime",
        "cleanup.policy": "compact",
        "min.compaction.lag.ms": String(RULES_MIN_COMPACTION_LAG_MS),
      },
      purpose: "matching part of each rule version (no secrets), tombstones, rules ticks",
    },
    {
      name: names.windows,
      numPartitions: options.windowsPartitions ?? deliveryPartitions,
      config: { "cleanup.policy": "delete" },
      purpose:
        "bundles of window parts for a windows partition (and single parts) and every runs partition's watermarks",
    },
    {
      name: names.windowsDlq,
      numPartitions: options.windowsPartitions ?? deliveryPartitions,
      config: { "cleanup.policy": "delete", "max.message.bytes": String(WINDOWS_DLQ_MAX_MESSAGE_BYTES) },
      purpose: "window messages delivery refused (invalid, or not matching the rule store), with the reason",
    },
    {
      name: names.attempts,
      numPartitions: deliveryPartitions,
      config: { "cleanup.policy": "delete" },
      purpose: "one record per webhook attempt, keyed by delivery id",
    },
    {
      name: names.ruleErrors,
      numPartitions: deliveryPartitions,
      config: { "cleanup.policy": "delete" },
      purpose: "rule versions whose filter could not judge runs (a count and a sample per flush), keyed by rule id",
    },
    {
      name: names.events,
      numPartitions: deliveryPartitions,
      config: { "cleanup.policy": "delete" },
      purpose: "operational events (delivery.exhausted, webhook.disabled, webhook.recovered), keyed by webhook id",
    },
    {
      name: names.traces,
      // One partition: a commit names its snapshot's offsets there.
      numPartitions: 1,
      config: {
        "cleanup.policy": "compact",
        "min.compaction.lag.ms": String(TRACES_MIN_COMPACTION_LAG_MS),
        "segment.ms": String(TRACES_SEGMENT_MS),
      },
      purpose: "the evaluator's trace snapshots (open traces per runs partition), keyed by runs partition and chunk",
    },
  ];
}
