/** What a consumer subscribed to, and what it was handed. */
export interface BatchTopicCheck {
  /** The topic of the batch kafkajs handed over. */
  readonly batchTopic: string;
  /** The one topic the consumer subscribed to. */
  readonly topic: string;
  readonly groupId: string;
  /** The variable naming the group (e.g. RUNHOOKS_EVALUATOR_GROUP). */
  readonly variable: string;
}

/**
 * Why a batch is refused, or undefined for one of the consumer's own topic. A backstop: kafkajs drops
 * assigned partitions of topics the member did not subscribe to before fetching
 * (unsubscribed-topics.ts logs that), so no batch of another topic reaches a runhooks consumer on the
 * kafkajs it runs on. Were one to, folding it would judge another deployment's data and commit its
 * offsets in the shared group.
 */
export function foreignBatchRefusal(c: BatchTopicCheck): string | undefined {
  if (c.batchTopic === c.topic) return undefined;
  return (
    `refusing a batch of ${c.batchTopic}: this consumer of group ${c.groupId} reads ${c.topic} only. Another ` +
    `deployment shares the group; give this one a group of its own with ${c.variable} (docs/operating.md)`
  );
}

/** Thrown for a refused batch: kafkajs retries the batch and restarts the consumer, never committing it. */
export class ForeignBatchError extends Error {
  override readonly name = "ForeignBatchError";
}

/**
 * Logs and throws when the batch is not of the consumer's topic, before anything of it is folded; its
 * offsets are never resolved nor committed (the services commit by hand).
 */
export function refuseForeignBatch(
  c: BatchTopicCheck,
  log: (level: "error", message: string, fields: Record<string, unknown>) => void,
): void {
  const refusal = foreignBatchRefusal(c);
  if (refusal === undefined) return;
  log("error", refusal, { topic: c.batchTopic, subscribed: c.topic, groupId: c.groupId, variable: c.variable });
  throw new ForeignBatchError(refusal);
}
