import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { MatchWindow, type Run } from "@runhooks/contracts";
import { compileFilter, runFacts, sampled, validateFilter } from "@runhooks/rules";
import { startEvaluator } from "@runhooks/evaluator";
import { repoRoot } from "@runhooks/infra";
import { waitForTopics } from "@runhooks/kafka";
import type { Admin, Kafka } from "kafkajs";
import { createHarness, makeRun, ruleVersion, type Harness } from "./harness.js";
import { mulberry32 } from "../../../test/support/random.js";
import { readTopic } from "../../../test/support/read-topic.js";

const TENANT = "2ebda79f-2946-4491-a9ad-d642f49e0815";
const RUNS = 20_000;
const KILLS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function recordCount(admin: Admin, topic: string): Promise<number> {
  const ends = await admin.fetchTopicOffsets(topic);
  return ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/** Every message of a topic, read with a throw-away group until the high watermark. */
async function readAll(kafka: Kafka, admin: Admin, topic: string): Promise<MatchWindow[]> {
  const read = await readTopic(kafka, topic, await recordCount(admin, topic));
  return read.map(({ message }) => MatchWindow.parse(JSON.parse(message.value!.toString())));
}

/** True once the group has committed every partition up to its end: nothing open, nothing unread. */
async function caughtUp(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = (await admin.fetchOffsets({ groupId, topics: [topic] })).flatMap((t) => t.partitions);
  return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.high);
}

async function waitCaughtUp(admin: Admin, groupId: string, topic: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Twice in a row, a second apart: a tick appended meanwhile would move the end again.
  let streak = 0;
  while (streak < 2) {
    if (Date.now() > deadline) throw new Error(`group ${groupId} did not catch up with ${topic}`);
    streak = (await caughtUp(admin, groupId, topic)) ? streak + 1 : 0;
    await sleep(1000);
  }
}

type Summary = { rule: string; version: number; partition: number; chunk: number; bounds: string; runs: string[] };
const summarise = (w: MatchWindow): Summary => ({
  rule: w.rule_id,
  version: w.rule_version,
  partition: w.partition,
  chunk: w.chunk,
  bounds: `${w.start_time}/${w.end_time}`,
  runs: w.runs.map((r) => r.id),
});

describe("evaluator crash test", () => {
  let h: Harness | undefined;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await h?.close();
  });

  it(`emits exactly an uninterrupted run's windows while SIGKILLed ${KILLS} times during ${RUNS} runs`, async () => {
    const harness = await createHarness("crash", 3);
    h = harness;
    const random = mulberry32(20_261_126);
    const rules = [
      ruleVersion({ tenant_id: TENANT, filter: { "==": [{ var: "status" }, "error"] }, window: { seconds: 1, max_runs: 25 } }),
      ruleVersion({ tenant_id: TENANT, filter: { ">": [{ var: "total_tokens" }, 500] }, window: { seconds: 2, max_runs: 100 } }),
      ruleVersion({ tenant_id: TENANT, filter: { in: ["tagged", { var: "tags" }] }, sampling_rate: 0.5, window: { seconds: 1, max_runs: 10 } }),
    ];
    for (const r of rules) await h.publishRule(r);

    const groupId = `${h.prefix}-crashy`;
    const spawnEvaluator = () => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--conditions=source", join(repoRoot, "services/evaluator/src/main.ts")],
        {
          env: {
            ...process.env,
            KAFKA_BROKERS: inject("kafkaBrokers").join(","),
            RUNHOOKS_TOPIC_PREFIX: harness.prefix,
            RUNHOOKS_EVALUATOR_GROUP: groupId,
            RUNHOOKS_EVALUATOR_PORT: "-1",
            RUNHOOKS_TICK_INTERVAL_MS: "100",
            RUNHOOKS_SESSION_TIMEOUT_MS: "6000",
            RUNHOOKS_LOG_LEVEL: "warn",
          },
          stdio: ["ignore", "ignore", "inherit"],
        },
      );
      children.push(child);
      return child;
    };

    // Produce 20,000 runs over ~70 s while the evaluator is killed at random moments. (A killed member
    // holds its partitions until its 6 s session times out, so each incarnation needs several seconds.)
    const produced: Run[] = [];
    const production = (async () => {
      const batch = 100;
      for (let i = 0; i < RUNS; i += batch) {
        const runs = Array.from({ length: batch }, () =>
          makeRun(TENANT, {
            status: random() < 0.3 ? "error" : "success",
            total_tokens: Math.floor(random() * 1000),
            tags: random() < 0.4 ? ["tagged"] : ["plain"],
            trace_id: randomUUID(),
          }),
        );
        produced.push(...runs);
        await harness.produceRuns(runs);
        await sleep(350);
      }
    })();
    const admin = harness.kafka.admin();
    await admin.connect();
    const committedSum = async () =>
      (await admin.fetchOffsets({ groupId, topics: [harness.topics.runs] }))
        .flatMap((t) => t.partitions)
        .reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    let current = spawnEvaluator();
    const killedAt: number[] = [];
    let killsWhileProducing = 0;
    for (let k = 0; k < KILLS; k++) {
      // Kill an evaluator that is working: wait until this incarnation has committed progress, then
      // strike at a random moment within the next few hundred milliseconds.
      const before = await committedSum();
      while ((await committedSum()) === before) await sleep(100);
      await sleep(random() * 800);
      if (produced.length < RUNS) killsWhileProducing++;
      current.kill("SIGKILL");
      await new Promise((r) => current.once("exit", r));
      killedAt.push(await committedSum());
      current = spawnEvaluator();
    }
    await production;

    try {
      await waitCaughtUp(admin, groupId, h.topics.runs, 120_000);
      current.kill("SIGTERM");
      await new Promise((r) => current.once("exit", r));

      // The same logs, folded once without interruption into another topic.
      const referenceTopic = `${h.prefix}.windows.reference`;
      await admin.createTopics({ waitForLeaders: false, topics: [{ topic: referenceTopic, numPartitions: 1 }] });
      await waitForTopics(admin, [referenceTopic]);
      const reference = await startEvaluator({
        brokers: inject("kafkaBrokers"),
        topicPrefix: h.prefix,
        groupId: `${h.prefix}-reference`,
        instanceId: "reference",
        maxRunBytes: 512 * 1024,
        tickIntervalMs: 100,
        topicOverrides: { windows: referenceTopic },
        log: () => undefined,
      });
      try {
        await waitCaughtUp(admin, `${h.prefix}-reference`, h.topics.runs, 120_000);
      } finally {
        await reference.stop();
      }

      const crashy = await readAll(h.kafka, admin, h.topics.windows);
      const uninterrupted = await readAll(h.kafka, admin, referenceTopic);

      // A window re-emitted after a kill is identical to its first emission.
      const byId = new Map<string, Summary>();
      let reEmitted = 0;
      for (const w of crashy) {
        const seen = byId.get(w.window_id);
        if (seen) {
          reEmitted++;
          expect(summarise(w), `window ${w.window_id} re-emitted with other contents`).toEqual(seen);
        } else {
          byId.set(w.window_id, summarise(w));
        }
      }
      const referenceById = new Map(uninterrupted.map((w) => [w.window_id, summarise(w)]));
      expect(referenceById.size).toBe(uninterrupted.length);
      expect(byId.size).toBe(referenceById.size);
      expect(new Map([...byId].sort())).toEqual(new Map([...referenceById].sort()));

      // The log holds every produced run. The harness' producer is not idempotent: a send it retried after
      // a lost acknowledgement appends its runs again, and the windows must then hold each record of the
      // log — so what each rule should hold is judged over the records as appended.
      const logged = await readTopic(h.kafka, h.topics.runs, await recordCount(admin, h.topics.runs));
      const appended = logged
        .filter(({ message }) => message.headers?.["runhooks-kind"]?.toString() !== "tick") // the evaluator's own ticks
        .map(({ message }) => JSON.parse(message.value!.toString()) as Run);
      expect(new Set(appended.map((r) => r.id))).toEqual(new Set(produced.map((r) => r.id)));

      // No run lost, none in two windows of a rule: each rule holds exactly the records it matches.
      for (const rule of rules) {
        const filter = validateFilter(rule.filter);
        if (!filter.ok) throw new Error("test rule invalid");
        const compiled = compileFilter(filter.value);
        const expected = appended
          .filter((r) => compiled(runFacts(r)) && (rule.sampling_rate >= 1 || sampled(rule.rule_id, r.id, rule.sampling_rate)))
          .map((r) => r.id)
          .sort();
        const got = [...byId.values()].filter((w) => w.rule === rule.rule_id).flatMap((w) => w.runs).sort();
        expect(got.length, `rule ${rule.rule_id}`).toBe(expected.length);
        expect(got).toEqual(expected);
      }
      // The kills were real: each struck a working evaluator, and while runs were still being produced.
      expect(killedAt).toHaveLength(KILLS);
      expect(killsWhileProducing).toBe(KILLS);
      console.log(
        `[crash test] ${RUNS} runs, ${KILLS} SIGKILLs (committed offsets at each kill: ${killedAt.join(", ")}): ` +
          `${byId.size} windows, identical to the uninterrupted fold; ${reEmitted} re-emitted identically; ` +
          `${appended.length - produced.length} runs appended twice by the producer's retries`,
      );
    } finally {
      await admin.disconnect();
    }
  }, 600_000);
});
