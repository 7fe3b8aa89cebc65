// What publishing a flush's window parts costs the evaluator when one run is in many windows (fan-out):
// CPU and bytes on the wire per run in a part, for three ways to publish them: one message per part
// put together whole; one message per part sliced (the runs shared by reference,
// packages/kafka/src/sliced-value.ts); and what the evaluator publishes, bundles of a windows
// partition's parts carrying each run once (services/evaluator/src/part-bundle.ts). One process, no
// broker: the flush's chunking into sends and kafkajs' encoding of each produce request (Snappy,
// checksums).
//
//   npx tsx --conditions=source bench/kafka/fan-out-encoding.ts     (BENCH_RUNS, BENCH_WINDOWS, BENCH_FLUSHES)
import { joinSlices, slicedValue } from "@runhooks/kafka";
import { PARTITION_BUDGET_BYTES, SEND_BUDGET_BYTES, byteBudgetChunks, windowMessages } from "@runhooks/evaluator";
import { encodedBytes } from "../support/produce-request.js";

/** Runs per window, and windows each run is in: bench:evaluator's 1,000-rule scenario has ~110 and ~60. */
const RUNS = Number(process.env["BENCH_RUNS"] ?? 110);
const WINDOWS = Number(process.env["BENCH_WINDOWS"] ?? 60);
const FLUSHES = Number(process.env["BENCH_FLUSHES"] ?? 30);
const PARTITIONS = 6;

// Runs like bench:evaluator's (~1.6 KB of JSON).
const run = (i: number) =>
  Buffer.from(
    JSON.stringify({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      name: "ChatOpenAI",
      run_type: "llm",
      status: "success",
      start_time: "2026-12-06T17:00:00.000Z",
      end_time: "2026-12-06T17:00:01.234Z",
      tags: [`tag-${i % 20}`, "bench"],
      extra: { metadata: { env: "prod", customer: `c-${i % 50}` } },
      inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(8) }] },
      outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(8) }] },
      total_tokens: i % 2000,
    }),
  );
const COMMA = Buffer.from(",");
const TAIL = Buffer.from("]}");

type Mode = "whole" | "sliced" | "bundled";
const MODES: readonly Mode[] = ["whole", "sliced", "bundled"];
const LABEL: Record<Mode, string> = { whole: "whole values  ", sliced: "sliced values ", bundled: "bundled values" };

/** The flush as the evaluator publishes it: its parts bundled per windows partition. */
function bundledFlush(f: number) {
  const runs = Array.from({ length: RUNS }, (_, i) => ({
    offset: i,
    runId: `r${i}`,
    json: run(f * RUNS + i),
    time: 1,
  }));
  const parts = Array.from({ length: WINDOWS }, (_, w) => ({
    part: {
      partId: `00000000-0000-4000-8000-${String(f * WINDOWS + w).padStart(12, "0")}`,
      ruleId: `00000000-0000-4000-9000-${String(w).padStart(12, "0")}`,
      ruleVersion: 1,
      tenantId: "00000000-0000-4000-a000-000000000000",
      maxRuns: 1000,
      partition: 0,
      piece: 0,
      startMs: 0,
      endMs: 1000,
      runs,
      reason: "time" as const,
      closedAt: 0,
    },
    traceparent: undefined,
    windowsPartition: w % PARTITIONS,
  }));
  return byteBudgetChunks(
    [{ topic: "runhooks.windows", messages: windowMessages(parts) }],
    PARTITION_BUDGET_BYTES,
    SEND_BUDGET_BYTES,
  );
}

function flush(f: number, mode: Mode) {
  if (mode === "bundled") return bundledFlush(f);
  const sliced = mode === "sliced";
  const runs = Array.from({ length: RUNS }, (_, i) => run(f * RUNS + i));
  const shared: Uint8Array[] = runs.flatMap((r, i) => (i === 0 ? [r] : [COMMA, r]));
  shared.push(TAIL);
  const messages = Array.from({ length: WINDOWS }, (_, w) => {
    const head = Buffer.from(
      `{"part_id":"${f}-${w}","rule_id":"rule-${w}","run_times":[${"1,".repeat(RUNS - 1)}1],"runs":[`,
    );
    return {
      key: `rule-${w}`,
      partition: w % PARTITIONS,
      value: sliced ? slicedValue(head, shared) : joinSlices({ head, shared }),
      headers: { "runhooks-kind": "part" },
    };
  });
  return byteBudgetChunks([{ topic: "runhooks.windows", messages }], PARTITION_BUDGET_BYTES, SEND_BUDGET_BYTES);
}

async function measure(mode: Mode): Promise<{ cpu: number; wire: number }> {
  let wire = 0;
  const cpu = process.cpuUsage();
  for (let f = 0; f < FLUSHES; f++) {
    for (const chunk of flush(f, mode)) {
      wire += await encodedBytes(chunk, PARTITIONS);
    }
  }
  const used = process.cpuUsage(cpu);
  const joins = FLUSHES * RUNS * WINDOWS;
  return { cpu: (used.user + used.system) / joins, wire: wire / joins };
}

for (const mode of [...MODES, ...MODES]) await measure(mode); // warm up
const results = [];
for (let round = 0; round < 3; round++) for (const mode of MODES) results.push({ mode, ...(await measure(mode)) });
for (const mode of MODES) {
  const mine = results.filter((r) => r.mode === mode);
  const cpu = mine.map((r) => r.cpu).sort((a, b) => a - b)[1]!;
  console.log(
    `${LABEL[mode]}: ${cpu.toFixed(3)} µs CPU and ${mine[0]!.wire.toFixed(0)} bytes on the wire per run in a part`,
  );
}
console.log(
  `${FLUSHES} flushes of ${WINDOWS} parts over ${PARTITIONS} partitions, each holding the same ${RUNS} runs of ~${(run(0).length / 1024).toFixed(1)} KB`,
);
console.log(
  `rerun: BENCH_RUNS=${RUNS} BENCH_WINDOWS=${WINDOWS} BENCH_FLUSHES=${FLUSHES} npx tsx --conditions=source bench/kafka/fan-out-encoding.ts`,
);
