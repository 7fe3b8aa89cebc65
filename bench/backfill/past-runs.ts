// The runs a backfill judges, already in the runs topic before its rule exists, and its rule.
import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";

/** A ~1.5 KB run; one in ten is an error (what the backfill's rule matches). */
export function pastRun(i: number, tenantId: string): string {
  const id = randomUUID();
  const start = Date.now() - 2000 - (i % 5000);
  return JSON.stringify({
    id,
    trace_id: id,
    name: i % 3 === 0 ? "ChatOpenAI" : "RetrievalQA",
    run_type: i % 3 === 0 ? "llm" : "chain",
    status: i % 10 === 0 ? "error" : "success",
    error: i % 10 === 0 ? "RateLimitError: too many requests" : null,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + (i % 7000)).toISOString(),
    tenant_id: tenantId,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    is_root: true,
    tags: [`tag-${i % 20}`, "bench"],
    extra: { metadata: { env: i % 2 ? "prod" : "staging", ls_model_name: "gpt-4o-mini" } },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(8) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(8) }] },
    total_tokens: i % 2000,
  });
}

/** The backfill's rule: the error runs, 1 s windows of at most 100 runs. */
export function backfillRule(webhookUrl: string) {
  return {
    display_name: "bench errors",
    enabled: true,
    filter: { "==": [{ var: "status" }, "error"] },
    sampling_rate: 1,
    window: { seconds: 1, max_runs: 100 },
    webhooks: [{ url: webhookUrl, headers: {} }],
  };
}

/**
 * Appends `n` past runs round robin over the partitions; the range they lie in (`from` before the
 * first's append time, `to` after the last's).
 */
export async function producePastRuns(
  kafka: Kafka,
  topic: string,
  partitions: number,
  n: number,
  tenantId: string,
): Promise<{ from: Date; to: Date }> {
  const from = new Date(Date.now() - 1000);
  const producer = kafka.producer();
  await producer.connect();
  // Two sends in flight: one waits for the broker while the next is encoded.
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
      partition: (i + k) % partitions,
      value: pastRun(i + k, tenantId),
    }));
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  return { from, to: new Date(Date.now() + 1) };
}
