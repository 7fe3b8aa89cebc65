import { randomUUID } from "node:crypto";
import {
  DeadLetter,
  RuleError,
  RunsWatermark,
  WindowPart,
  WindowPartBundle,
  type Run,
  type RuleVersion,
} from "@runhooks/contracts";
import { decodeWindowsMessage, windowPartJson } from "@runhooks/delivery";
import { ensureTopics, topicNames, topicSpecs, type TopicNames } from "@runhooks/kafka";
import type { Consumer, IHeaders, Kafka, Producer } from "kafkajs";
import { testKafka, uniquePrefix } from "../../../test/support/stack.js";

/** A message of the windows topic as the collector read it: where it was, and what it is. */
export type WindowsEntry = { readonly q: number; readonly offset: number } &
  /** `text`: the part as a single WindowPart message (a bundle's part expanded). */
  (
    | { readonly kind: "part"; readonly part: WindowPart; readonly text: string }
    | { readonly kind: "watermark"; readonly watermark: RunsWatermark }
  );

/** A fresh set of topics, a producer for runs and rules, and collectors for window parts and dead letters. */
export interface Harness {
  readonly prefix: string;
  readonly topics: TopicNames;
  readonly kafka: Kafka;
  /** The parts of the windows topic, as read (a rebalance of the collector may repeat some). */
  readonly parts: WindowPart[];
  /** Everything read from the windows topic, parts and watermarks. */
  readonly windowsLog: WindowsEntry[];
  readonly deadLetters: DeadLetter[];
  readonly ruleErrors: RuleError[];
  publishRule(rule: RuleVersion): Promise<void>;
  deleteRule(ruleId: string): Promise<void>;
  produceRuns(runs: readonly Run[]): Promise<void>;
  produceRaw(values: readonly (string | Buffer)[], key?: string): Promise<void>;
  close(): Promise<void>;
}

export async function createHarness(label: string, runsPartitions = 2): Promise<Harness> {
  const prefix = uniquePrefix(label);
  const topics = topicNames(prefix);
  const kafka = testKafka(`harness-${label}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions, deliveryPartitions: 2 }));
  await admin.disconnect();

  const producer: Producer = kafka.producer();
  await producer.connect();
  const parts: WindowPart[] = [];
  const windowsLog: WindowsEntry[] = [];
  const deadLetters: DeadLetter[] = [];
  const ruleErrors: RuleError[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: `${prefix}-collector`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.windows, topics.runsDlq, topics.ruleErrors], fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, partition, message }) => {
      if (topic === topics.windows) {
        windowsLog.push(...windowsEntries(partition, message, parts));
        return Promise.resolve();
      }
      const value = JSON.parse(message.value!.toString()) as unknown;
      if (topic === topics.ruleErrors) ruleErrors.push(RuleError.parse(value));
      else deadLetters.push(DeadLetter.parse(value));
      return Promise.resolve();
    },
  });

  return {
    prefix,
    topics,
    kafka,
    parts,
    windowsLog,
    deadLetters,
    ruleErrors,
    async publishRule(rule) {
      await producer.send({
        topic: topics.rules,
        acks: -1,
        messages: [{ key: rule.rule_id, value: JSON.stringify(rule) }],
      });
    },
    async deleteRule(ruleId) {
      await producer.send({ topic: topics.rules, acks: -1, messages: [{ key: ruleId, value: null }] });
    },
    async produceRuns(runs) {
      await producer.send({
        topic: topics.runs,
        acks: -1,
        messages: runs.map((r) => ({ key: r.trace_id ?? r.id, value: JSON.stringify(r) })),
      });
    },
    async produceRaw(values, key = "raw") {
      await producer.send({ topic: topics.runs, acks: -1, messages: values.map((value) => ({ key, value })) });
    },
    async close() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

/**
 * A windows-topic message, checked against its contract (WindowPartBundle, WindowPart, RunsWatermark),
 * as its entries: a bundle's parts each as a part (expanded by delivery's decoder) at its offset. Each
 * part is also added to `parts`.
 */
export function windowsEntries(
  q: number,
  message: { readonly offset: string; readonly value: Buffer | null; readonly headers?: IHeaders | undefined },
  parts?: WindowPart[],
): WindowsEntry[] {
  const offset = Number(message.offset);
  const kind = message.headers?.["runhooks-kind"]?.toString();
  if (kind !== "watermark" && kind !== "part" && kind !== "parts")
    throw new Error(`unexpected message on the windows topic: kind ${kind}`);
  const value = JSON.parse(message.value!.toString()) as unknown;
  const m = decodeWindowsMessage(message);
  if (m.kind === "invalid" || m.kind === "tick") throw new Error(`windows message at ${offset}: ${m.kind}`);
  if (m.kind === "watermark") return [{ q, offset, kind: "watermark", watermark: RunsWatermark.parse(value) }];
  if (kind === "parts") WindowPartBundle.parse(value);
  return m.parts.map((p) => {
    const text = windowPartJson(p.head, p.part.runs).toString();
    const part = WindowPart.parse(JSON.parse(text));
    if (kind === "part" && text !== message.value!.toString()) throw new Error("a part decodes to other bytes");
    parts?.push(part);
    return { q, offset, kind: "part", part, text };
  });
}

/** Per windows partition, the highest watermark of each runs partition read so far. */
export function watermarksByPartition(log: readonly WindowsEntry[]): Map<number, Map<number, number>> {
  const byQ = new Map<number, Map<number, number>>();
  for (const e of log) {
    if (e.kind !== "watermark") continue;
    let byP = byQ.get(e.q);
    if (byP === undefined) byQ.set(e.q, (byP = new Map<number, number>()));
    byP.set(
      e.watermark.runs_partition,
      Math.max(byP.get(e.watermark.runs_partition) ?? Number.NEGATIVE_INFINITY, e.watermark.stream_time),
    );
  }
  return byQ;
}

export function ruleVersion(patch: Partial<RuleVersion> & Pick<RuleVersion, "tenant_id" | "filter">): RuleVersion {
  return {
    schema_version: 1,
    kind: "rule",
    rule_id: randomUUID(),
    version: 1,
    session_id: null,
    enabled: true,
    sampling_rate: 1,
    window: { seconds: 1, max_runs: 100 },
    ...patch,
  };
}

export function makeRun(tenantId: string, patch: Partial<Run> = {}): Run {
  const id = randomUUID();
  const now = new Date();
  return {
    id,
    trace_id: id,
    name: "ChatOpenAI",
    run_type: "llm",
    status: "success",
    start_time: new Date(now.getTime() - 1200).toISOString(),
    end_time: now.toISOString(),
    tenant_id: tenantId,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    inputs: { prompt: "hello" },
    outputs: { text: "hi" },
    extra: { metadata: { env: "prod" } },
    total_tokens: 12,
    ...patch,
  };
}

/** Polls until `check` holds, or fails with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function runIdsOf(parts: readonly WindowPart[], ruleId?: string): string[] {
  return parts
    .filter((w) => ruleId === undefined || w.rule_id === ruleId)
    .flatMap((w) => w.runs.map((r) => r.id))
    .sort();
}
