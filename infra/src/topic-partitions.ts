import type { TopicMismatch, TopicNames } from "@runhooks/kafka";

/**
 * What infra does when a topic has fewer partitions than its declaration asks for (DESIGN.md §4):
 *
 * - The runs topic and its dead-letter topic are raised: the evaluators pick new runs partitions up at
 *   their next assignment, and the assembler waits for the watermark of every runs partition it knows,
 *   so no window is lost or sent twice.
 * - The windows topic is never raised: a rule's parts are keyed by its rule id and merged in the one
 *   windows partition that id hashes to. With more partitions, rules would move to other windows
 *   partitions, and a window whose parts were written on both sides of the change would be split
 *   between two assemblers (its runs sent in two incomplete windows, or never).
 * - Anything else (other topics, a topic with more partitions than declared: Kafka cannot remove
 *   partitions) stays a warning for the operator.
 */
export interface PartitionPlan {
  /** Topics to give more partitions, with their new count. */
  readonly raise: readonly { readonly topic: string; readonly from: number; readonly to: number }[];
  /** Why nothing may be changed; set when the windows topic would have to grow. */
  readonly refusal: string | undefined;
  /** Mismatches left to report as warnings. */
  readonly warnings: readonly TopicMismatch[];
}

export function planPartitions(
  mismatches: readonly TopicMismatch[],
  names: Pick<TopicNames, "runs" | "runsDlq" | "windows">,
): PartitionPlan {
  const raise: { topic: string; from: number; to: number }[] = [];
  const warnings: TopicMismatch[] = [];
  let refusal: string | undefined;
  for (const m of mismatches) {
    const from = Number(m.actual);
    const to = Number(m.expected);
    if (m.setting !== "partitions" || !(from < to)) {
      warnings.push(m);
    } else if (m.topic === names.runs || m.topic === names.runsDlq) {
      raise.push({ topic: m.topic, from, to });
    } else if (m.topic === names.windows) {
      refusal = windowsRefusal(m.topic, from, to);
    } else {
      warnings.push(m);
    }
  }
  return { raise, refusal, warnings };
}

function windowsRefusal(topic: string, from: number, to: number): string {
  return (
    `topic ${topic} has ${from} partitions and RUNHOOKS_WINDOWS_PARTITIONS asks for ${to}: runhooks does not add partitions ` +
    `to the windows topic, because rules would move to other windows partitions and a window's parts, written on both ` +
    `sides of the change, would be split between two of them (its runs delivered in incomplete windows, or never). ` +
    `Set RUNHOOKS_WINDOWS_PARTITIONS=${from} to keep the topic as it is. To change it, drain it first: stop ingest, ` +
    `wait until delivery has delivered every window that holds runs (the longest window after the last run), stop the ` +
    `evaluators and delivery, add the partitions (kafka-topics.sh --alter --partitions ${to}), then set ` +
    `RUNHOOKS_WINDOWS_PARTITIONS=${to} and start again; or start a new installation under another RUNHOOKS_TOPIC_PREFIX.`
  );
}
