import type { WindowPart } from "@runhooks/contracts";
import { assembleStep, createAssembleState, type AssembleInput, type MergedChunk } from "@runhooks/rules";
import type { Admin, Consumer, Kafka } from "kafkajs";
import { readTopic } from "../../../test/support/read-topic.js";
import { windowsEntries } from "./harness.js";

/**
 * A windows topic as delivery sees it: each of its partitions folded with the pure assembler into
 * merged windows. What the crash test compares between a crashed and an uninterrupted evaluation.
 */
export interface AssembledTopic {
  /** Per windows partition, the merged chunks in the order the assembler emitted them. */
  readonly chunks: ReadonlyMap<number, readonly MergedChunk[]>;
  /** The lowest watermark over every runs partition and windows partition: every window ending by it is complete. */
  readonly low: number;
  /** Parts read more than once (re-emitted after a crash), each identical to its first emission. */
  readonly reEmitted: number;
  /** Parts the assembler dropped as duplicates. */
  readonly duplicatesDropped: number;
  /** Part id → the part as a WindowPart message (a bundle's part expanded): a re-emitted part must be byte-identical. */
  readonly partBytes: ReadonlyMap<string, string>;
}

const encoder = new TextEncoder();

/** A part as the assembler takes it; a run's bytes are its JSON as parsed (the same for every copy). */
function partInput(offset: number, part: WindowPart): AssembleInput {
  return {
    kind: "part",
    offset,
    partId: part.part_id,
    ruleId: part.rule_id,
    ruleVersion: part.rule_version,
    tenantId: part.tenant_id,
    maxRuns: part.max_runs,
    runsPartition: part.runs_partition,
    piece: part.piece,
    startMs: Date.parse(part.start_time),
    endMs: Date.parse(part.end_time),
    runs: part.runs.map((r, i) => ({ runId: r.id, json: encoder.encode(JSON.stringify(r)), time: part.run_times[i]! })),
  };
}

async function recordCount(admin: Admin, topic: string): Promise<number> {
  const ends = await admin.fetchTopicOffsets(topic);
  return ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/**
 * Reads every message of a windows topic and folds each partition with the assembler, knowing
 * `runsPartitions` runs partitions from the start. Throws if a part id comes back with other bytes.
 */
export async function assembleTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  runsPartitions: number,
): Promise<AssembledTopic> {
  const read = await readTopic(kafka, topic, await recordCount(admin, topic));
  read.sort((a, b) => a.partition - b.partition || Number(a.message.offset) - Number(b.message.offset));
  const states = new Map<number, ReturnType<typeof createAssembleState>>();
  const chunks = new Map<number, MergedChunk[]>();
  const partBytes = new Map<string, string>();
  let reEmitted = 0;
  let duplicatesDropped = 0;
  for (const { partition: q, message } of read) {
    let state = states.get(q);
    if (state === undefined) {
      states.set(q, (state = createAssembleState()));
      chunks.set(q, []);
      assembleStep(state, { kind: "partitions", count: runsPartitions });
    }
    for (const entry of windowsEntries(q, message)) {
      let input: AssembleInput;
      if (entry.kind === "part") {
        const seen = partBytes.get(entry.part.part_id);
        if (seen !== undefined) {
          reEmitted++;
          if (seen !== entry.text) throw new Error(`part ${entry.part.part_id} re-emitted with other bytes`);
        } else {
          partBytes.set(entry.part.part_id, entry.text);
        }
        input = partInput(entry.offset, entry.part);
      } else {
        input = {
          kind: "watermark",
          offset: entry.offset,
          runsPartition: entry.watermark.runs_partition,
          streamTime: entry.watermark.stream_time,
        };
      }
      for (const outcome of assembleStep(state, input)) {
        if (outcome.kind === "chunk") chunks.get(q)!.push(outcome);
        else duplicatesDropped++;
      }
    }
  }
  const lows = [...states.values()].map((s) => s.low);
  return {
    chunks,
    low: lows.length === 0 ? Number.NEGATIVE_INFINITY : Math.min(...lows),
    reEmitted,
    duplicatesDropped,
    partBytes,
  };
}

/** A chunk as compared: its id, place, bounds and runs (id and time) in order. */
export function chunkSummary(c: MergedChunk) {
  return {
    id: c.windowId,
    rule: c.ruleId,
    version: c.ruleVersion,
    bounds: `${c.startMs}/${c.endMs}`,
    chunk: `${c.chunkIndex}/${c.chunkCount}`,
    runs: c.runs.map((r) => `${r.runId}@${r.time}`),
  };
}

/** Follows a windows topic's watermarks live: `low` is the lowest over every runs and windows partition. */
export async function followWatermarks(
  kafka: Kafka,
  topic: string,
  partitions: { readonly runs: number; readonly windows: number },
): Promise<{ low(): number; stop(): Promise<void> }> {
  const highest = new Map<string, number>();
  const consumer: Consumer = kafka.consumer({ groupId: `${topic}-watermarks-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      if (message.headers?.["runhooks-kind"]?.toString() === "watermark") {
        const w = JSON.parse(message.value!.toString()) as { runs_partition: number; stream_time: number };
        const key = `${partition}/${w.runs_partition}`;
        highest.set(key, Math.max(highest.get(key) ?? Number.NEGATIVE_INFINITY, w.stream_time));
      }
      return Promise.resolve();
    },
  });
  return {
    low() {
      let low = Number.POSITIVE_INFINITY;
      for (let q = 0; q < partitions.windows; q++) {
        for (let p = 0; p < partitions.runs; p++)
          low = Math.min(low, highest.get(`${q}/${p}`) ?? Number.NEGATIVE_INFINITY);
      }
      return low;
    },
    stop: () => consumer.disconnect(),
  };
}
