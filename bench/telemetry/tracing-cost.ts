// What tracing costs the evaluator: runs/s of one evaluator over the same topic of traced runs (each
// carries a traceparent header, as runs produced with `sendTraced` do), with tracing off and on (every
// span exported over OTLP/HTTP to a receiver in this process that discards them), alternating.
//
//   npx tsx --conditions=source bench/telemetry/tracing-cost.ts     (BENCH_RUNS=50000, BENCH_ROUNDS=2)
//
// Starts (or reuses) the local Kafka like the tests do, and stops what it started.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { RuleVersion } from "@runhooks/contracts";
import { startEvaluator } from "@runhooks/evaluator";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { createKafka, ensureTopics, topicNames, topicSpecs, waitForTopics } from "@runhooks/kafka";
import { OTEL_OFF, createTelemetry, otelConfigFromEnv, sendTraced } from "@runhooks/telemetry";

const N = Number(process.env["BENCH_RUNS"] ?? 50_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 2);
const PARTITIONS = 6;
const TENANTS = Array.from({ length: 10 }, () => randomUUID());
const say = (line: string) => console.log(line);

function run(i: number): string {
  const id = randomUUID();
  const start = Date.now() - 2000;
  return JSON.stringify({
    id,
    trace_id: id,
    name: "ChatOpenAI",
    run_type: i % 3 === 0 ? "llm" : "chain",
    status: i % 10 === 0 ? "error" : "success",
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + (i % 7000)).toISOString(),
    tenant_id: TENANTS[i % TENANTS.length],
    session_id: null,
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(8) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(8) }] },
  });
}

/** 100 rules over 10 tenants, each matching its tenant's LLM errors (~3% of runs) in 5 s windows. */
function rules(): RuleVersion[] {
  return Array.from({ length: 100 }, (_, i) => ({
    schema_version: 1,
    kind: "rule",
    rule_id: randomUUID(),
    version: 1,
    tenant_id: TENANTS[i % TENANTS.length]!,
    session_id: null,
    enabled: true,
    filter: { and: [{ "==": [{ var: "run_type" }, "llm"] }, { "==": [{ var: "status" }, "error"] }] },
    sampling_rate: 1,
    window: { seconds: 5, max_runs: 100 },
  }));
}

// An OTLP/HTTP endpoint that reads and discards what it gets.
let spansBytes = 0;
const sink = createServer((req, res) => {
  req.on("data", (c: Buffer) => (spansBytes += c.length));
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
});
await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

const stack = await startStack(readInfraEnv(), (l) => say(`[stack] ${l}`));
try {
  const prefix = `bench-otel-${randomUUID().slice(0, 8)}`;
  const names = topicNames(prefix);
  const kafka = createKafka({ brokers: stack.brokers, clientId: "bench", logLevel: "error", logger: () => undefined });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: PARTITIONS }));
  const producer = kafka.producer();
  await producer.connect();
  const ruleSet = rules();
  const configs = [
    { name: "tracing off", otel: OTEL_OFF },
    {
      name: "tracing on (OTLP)",
      otel: otelConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
        OTEL_METRICS_EXPORTER: "none",
        OTEL_BSP_SCHEDULE_DELAY: "500",
      }),
    },
  ];
  // One rules and windows topic per evaluator run, so each starts from scratch.
  const runsOf: { name: string; topics: string[]; otel: (typeof configs)[number]["otel"] }[] = [];
  for (let r = 0; r < ROUNDS; r++)
    for (const c of configs)
      runsOf.push({ ...c, topics: [`${prefix}.rules.${runsOf.length}`, `${prefix}.windows.${runsOf.length}`] });
  for (const x of runsOf) {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: x.topics[0]!,
          numPartitions: 1,
          configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }],
        },
        { topic: x.topics[1]!, numPartitions: PARTITIONS },
      ],
    });
    await waitForTopics(admin, x.topics);
    await producer.send({
      topic: x.topics[0]!,
      acks: -1,
      messages: ruleSet.map((rule) => ({ key: rule.rule_id, value: JSON.stringify(rule) })),
    });
  }

  // The runs, produced traced (one producer span each, exported to the sink).
  const producerTelemetry = createTelemetry(
    otelConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_METRICS_EXPORTER: "none" }),
    {
      name: "bench-producer",
      version: "bench",
      instanceId: "bench",
    },
  );
  say(`producing ${N} traced runs to ${names.runs} (${PARTITIONS} partitions)…`);
  for (let i = 0; i < N; i += 1000) {
    const messages = Array.from({ length: Math.min(1000, N - i) }, (_, k) => {
      const value = run(i + k);
      return { key: (JSON.parse(value) as { id: string }).id, value };
    });
    await sendTraced(producerTelemetry, producer, { topic: names.runs, acks: -1, messages });
  }
  await producerTelemetry.shutdown();

  const rows: string[][] = [];
  for (const [i, x] of runsOf.entries()) {
    const before = spansBytes;
    const evaluator = await startEvaluator({
      brokers: stack.brokers,
      topicPrefix: prefix,
      groupId: `${prefix}-eval-${i}`,
      instanceId: `bench-${i}`,
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 200,
      topicOverrides: { rules: x.topics[0]!, windows: x.topics[1]! },
      otel: x.otel,
      log: (level, message, fields) => {
        if (level === "error") console.error(`  [evaluator] ${message} ${JSON.stringify(fields ?? {})}`);
      },
    });
    while (evaluator.counters.runsRead === 0) await new Promise((r) => setTimeout(r, 1));
    const start = Date.now();
    while (evaluator.counters.runsRead < N) await new Promise((r) => setTimeout(r, 5));
    const seconds = (Date.now() - start) / 1000;
    const { runsMatched, windowsEmitted } = evaluator.counters;
    await evaluator.stop();
    rows.push([
      x.name,
      (N / seconds).toFixed(0),
      String(runsMatched),
      String(windowsEmitted),
      ((spansBytes - before) / 2 ** 20).toFixed(1),
    ]);
    say(`  ${x.name}: ${(N / seconds).toFixed(0)} runs/s`);
  }
  await producer.disconnect();
  await admin.disconnect();

  const header = ["evaluator", "runs/s", "matched", "windows", "OTLP MiB"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join("  ");
  say("");
  say(line(header));
  for (const r of rows) say(line(r));
  say("");
  say(
    `${N} traced runs, 100 rules (10 tenants), ${PARTITIONS} partitions, one process, alternating off/on ${ROUNDS}×.`,
  );
  say(`rerun: BENCH_RUNS=${N} BENCH_ROUNDS=${ROUNDS} npx tsx --conditions=source bench/telemetry/tracing-cost.ts`);
} finally {
  await stack.stop();
  sink.close();
}
