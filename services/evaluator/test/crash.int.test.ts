import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { Run } from "@runhooks/contracts";
import { compileFilter, runFacts, sampled, validateFilter } from "@runhooks/rules";
import { startEvaluator } from "@runhooks/evaluator";
import { repoRoot } from "@runhooks/infra";
import { waitForTopics } from "@runhooks/kafka";
import kafkajs, { type Admin } from "kafkajs";
import { createHarness, eventually, makeRun, ruleVersion, type Harness } from "./harness.js";
import { assembleTopic, chunkSummary, followWatermarks } from "./merged-windows.js";
import { mulberry32 } from "../../../test/support/random.js";
import { readTopic } from "../../../test/support/read-topic.js";

const { AssignerProtocol } = kafkajs;
const TENANT = "2ebda79f-2946-4491-a9ad-d642f49e0815";
const KILLS = 20;
const RUNS_PARTITIONS = 4;
/** The harness' windows topic has two partitions; the reference topic gets as many. */
const WINDOWS_PARTITIONS = 2;
/** The longest window of the rules below. */
const LONGEST_WINDOW_MS = 2000;
/** The trace-aware rules' horizon: a restart refolds twice it (and the longest window). */
const HORIZON_SECONDS = 20;
/** Runs are produced until every kill has struck, and at least this many. */
const MIN_RUNS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A trace as produced: its children before its root, its root (or none), a child after its root. */
interface ProducedTrace {
  readonly before: Run[];
  readonly root: Run | undefined;
  readonly late: Run[];
}

function produceTrace(random: () => number): ProducedTrace {
  const traceId = randomUUID();
  const child = (): Run =>
    makeRun(TENANT, {
      trace_id: traceId,
      parent_run_id: traceId,
      is_root: false,
      run_type: ["llm", "llm", "tool", "retriever", "chain"][Math.floor(random() * 5)]!,
      status: random() < 0.3 ? "error" : "success",
      total_tokens: Math.floor(random() * 1000),
      tags: random() < 0.4 ? ["tagged"] : ["plain"],
    });
  const before = Array.from({ length: 2 + Math.floor(random() * 5) }, child);
  const root =
    random() < 0.9
      ? makeRun(TENANT, {
          id: traceId,
          trace_id: traceId,
          is_root: true,
          run_type: "chain",
          status: random() < 0.1 ? "error" : "success",
          total_tokens: Math.floor(random() * 1000),
          tags: [random() < 0.5 ? "vip" : "free", random() < 0.4 ? "tagged" : "plain"],
        })
      : undefined;
  return { before, root, late: root && random() < 0.2 ? [child()] : [] };
}

/** The group's members that hold partitions of `topic`, by client id, once the group is stable. */
async function stableMembers(admin: Admin, groupId: string, topic: string): Promise<Map<string, number[]>> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  const members = new Map<string, number[]>();
  if (group?.state !== "Stable") return members;
  for (const m of group.members) {
    const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    const partitions = assignment?.assignment[topic] ?? [];
    if (partitions.length > 0) members.set(m.clientId, partitions);
  }
  return members;
}

describe("evaluator crash test", () => {
  let h: Harness | undefined;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await h?.close();
  });

  it(`assembles exactly an uninterrupted run's merged windows while two evaluators are SIGKILLed ${KILLS} times`, async () => {
    const harness = await createHarness("crash", RUNS_PARTITIONS);
    h = harness;
    const random = mulberry32(20_261_126);
    const rules = [
      ruleVersion({
        tenant_id: TENANT,
        filter: { "==": [{ var: "status" }, "error"] },
        window: { seconds: 1, max_runs: 25 },
      }),
      ruleVersion({
        tenant_id: TENANT,
        filter: { ">": [{ var: "total_tokens" }, 500] },
        window: { seconds: 2, max_runs: 100 },
      }),
      ruleVersion({
        tenant_id: TENANT,
        filter: { in: ["tagged", { var: "tags" }] },
        sampling_rate: 0.5,
        window: { seconds: 1, max_runs: 10 },
      }),
    ];
    // Trace-aware: errors in vip traces, and (sampled by trace) the roots of traces that called a tool.
    const vipErrors = ruleVersion({
      tenant_id: TENANT,
      filter: { "==": [{ var: "status" }, "error"] },
      trace_filter: { in: ["vip", { var: "tags" }] },
      trace_horizon_seconds: HORIZON_SECONDS,
      window: { seconds: 1, max_runs: 20 },
    });
    const toolRoots = ruleVersion({
      tenant_id: TENANT,
      filter: { "==": [{ var: "is_root" }, true] },
      tree_filter: { "==": [{ var: "run_type" }, "tool"] },
      trace_horizon_seconds: HORIZON_SECONDS,
      sampling_rate: 0.5,
      window: { seconds: 2, max_runs: 50 },
    });
    for (const r of [...rules, vipErrors, toolRoots]) await h.publishRule(r);

    const groupId = `${h.prefix}-crashy`;
    let incarnation = 0;
    // How the children's partitions started: from a trace snapshot holding open traces, or without one
    // (their info logs; warnings and errors still go to stderr).
    const starts = { fromOpenTraces: 0, fromSnapshot: 0, snapshotMissed: 0 };
    const readLog = (line: string) => {
      let entry: { level?: string; message?: string; traceSnapshot?: { traces: number } | null };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.message === "partition assigned; refolding from checkpoint" && entry.traceSnapshot) {
        starts.fromSnapshot++;
        if (entry.traceSnapshot.traces > 0) starts.fromOpenTraces++;
      }
      if (entry.message?.includes("trace snapshot") && entry.level === "warn") starts.snapshotMissed++;
      if (entry.level === "warn" || entry.level === "error") process.stderr.write(`${line}\n`);
    };
    /** A child evaluator; its Kafka client id names it in the group. */
    const spawnEvaluator = (): { child: ChildProcess; clientId: string } => {
      const instanceId = `crashy-${incarnation++}`;
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--conditions=source", join(repoRoot, "services/evaluator/src/main.ts")],
        {
          env: {
            ...process.env,
            KAFKA_BROKERS: inject("kafkaBrokers").join(","),
            RUNHOOKS_TOPIC_PREFIX: harness.prefix,
            RUNHOOKS_EVALUATOR_GROUP: groupId,
            RUNHOOKS_INSTANCE_ID: instanceId,
            RUNHOOKS_EVALUATOR_PORT: "-1",
            RUNHOOKS_TICK_INTERVAL_MS: "100",
            RUNHOOKS_SESSION_TIMEOUT_MS: "6000",
            RUNHOOKS_LOG_LEVEL: "info",
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let rest = "";
      child.stderr.setEncoding("utf8").on("data", (data: string) => {
        const lines = (rest + data).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) readLog(line);
      });
      children.push(child);
      return { child, clientId: `runhooks-evaluator-${instanceId}` };
    };

    // Runs are produced until the last kill has struck, while two evaluators in one group are killed
    // at random moments. (A killed member holds its partitions until its 6 s session times out.) They
    // come as traces, as ingest publishes them: children first, then the root; one trace in ten never
    // gets its root, one in five a child after it (in the next batch).
    const produced: Run[] = [];
    const traces: ProducedTrace[] = [];
    let late: Run[] = [];
    let killing = true;
    const production = (async () => {
      while (killing || produced.length < MIN_RUNS) {
        const runs = late;
        late = [];
        while (runs.length < 50) {
          const t = produceTrace(random);
          traces.push(t);
          runs.push(...t.before, ...(t.root ? [t.root] : []));
          late.push(...t.late);
        }
        produced.push(...runs);
        await harness.produceRuns(runs);
        await sleep(250);
      }
    })();
    const admin = harness.kafka.admin();
    await admin.connect();
    const committedSum = async () =>
      (await admin.fetchOffsets({ groupId, topics: [harness.topics.runs] }))
        .flatMap((t) => t.partitions)
        .reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);

    const alive = [spawnEvaluator(), spawnEvaluator()];
    const killedAt: number[] = [];
    let killsWhileProducing = 0;
    try {
      for (let k = 0; k < KILLS; k++) {
        // Strike a working evaluator while the other is working too: wait until the group is stable with
        // both holding partitions and has committed progress since, then kill one at a random moment
        // within the next few hundred milliseconds.
        const slot = random() < 0.5 ? 0 : 1;
        const both = async () => {
          const members = await stableMembers(admin, groupId, harness.topics.runs);
          return alive.every((e) => members.has(e.clientId));
        };
        for (const deadline = Date.now() + 120_000; !(await both()); await sleep(200)) {
          if (Date.now() > deadline) throw new Error(`kill ${k + 1}: the group never held both evaluators`);
        }
        const before = await committedSum();
        while ((await committedSum()) === before) await sleep(100);
        await sleep(random() * 800);
        if (killing) killsWhileProducing++;
        const victim = alive[slot]!;
        victim.child.kill("SIGKILL");
        await new Promise((r) => victim.child.once("exit", r));
        killedAt.push(await committedSum());
        alive[slot] = spawnEvaluator();
      }
    } finally {
      killing = false;
      await production;
    }
    const producedBy = Date.now();

    // Every window that can hold a run is complete once every runs partition's watermark passed the
    // last run's time plus the longest window, in every windows partition.
    const target = producedBy + LONGEST_WINDOW_MS;
    const crashyMarks = await followWatermarks(h.kafka, h.topics.windows, {
      runs: RUNS_PARTITIONS,
      windows: WINDOWS_PARTITIONS,
    });
    try {
      await eventually(
        "the crashed group's watermarks past the last window",
        () => crashyMarks.low() >= target,
        120_000,
      );
    } finally {
      await crashyMarks.stop();
    }
    for (const e of alive) e.child.kill("SIGTERM");
    await Promise.all(
      alive.map(
        (e) =>
          new Promise((r) =>
            e.child.exitCode === null && e.child.signalCode === null ? e.child.once("exit", r) : r(undefined),
          ),
      ),
    );

    try {
      // The same logs, evaluated once without interruption into another topic.
      const referenceTopic = `${h.prefix}.windows.reference`;
      await admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic: referenceTopic, numPartitions: WINDOWS_PARTITIONS }],
      });
      await waitForTopics(admin, [referenceTopic]);
      const referenceMarks = await followWatermarks(h.kafka, referenceTopic, {
        runs: RUNS_PARTITIONS,
        windows: WINDOWS_PARTITIONS,
      });
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
        await eventually(
          "the reference's watermarks past the last window",
          () => referenceMarks.low() >= target,
          120_000,
        );
      } finally {
        await reference.stop();
        await referenceMarks.stop();
      }

      // Both topics as delivery's assembler folds them; a part re-emitted after a kill is byte-identical
      // to its first emission (assembleTopic checks).
      const crashy = await assembleTopic(h.kafka, admin, h.topics.windows, RUNS_PARTITIONS);
      const uninterrupted = await assembleTopic(h.kafka, admin, referenceTopic, RUNS_PARTITIONS);
      const bound = Math.min(crashy.low, uninterrupted.low);
      expect(bound).toBeGreaterThanOrEqual(target);

      // The merged windows complete by both runs' watermarks: the same chunks (ids, runs, order) in each
      // windows partition.
      let chunkCount = 0;
      for (let q = 0; q < WINDOWS_PARTITIONS; q++) {
        const upTo = (chunks: ReturnType<typeof crashy.chunks.get>) =>
          (chunks ?? []).filter((c) => c.endMs <= bound).map(chunkSummary);
        const got = upTo(crashy.chunks.get(q));
        expect(got, `windows partition ${q}`).toEqual(upTo(uninterrupted.chunks.get(q)));
        chunkCount += got.length;
      }
      const merged = [...crashy.chunks.values()].flat().filter((c) => c.endMs <= bound);
      expect(new Set(merged.map((c) => c.windowId)).size).toBe(merged.length);

      // The log holds every produced run. The harness' producer is not idempotent: a send it retried after
      // a lost acknowledgement appends its runs again, so what each rule should hold is judged over the
      // records as appended.
      const ends = await admin.fetchTopicOffsets(h.topics.runs);
      const logged = await readTopic(
        h.kafka,
        h.topics.runs,
        ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0),
      );
      const appended = logged
        .filter(({ message }) => message.headers?.["runhooks-kind"]?.toString() !== "tick") // the evaluators' own ticks
        .map(({ message }) => JSON.parse(message.value!.toString()) as Run);
      expect(new Set(appended.map((r) => r.id))).toEqual(new Set(produced.map((r) => r.id)));
      const copies = new Map<string, number>();
      for (const r of appended) copies.set(r.id, (copies.get(r.id) ?? 0) + 1);
      const appendedTwice = new Set([...copies].filter(([, n]) => n > 1).map(([id]) => id));

      // The trace-aware rules: exactly their runs, and one run of them twice only if the log holds it
      // twice (a copy appended after the first was decided is decided again, with what is known then).
      const onceOrCopied = (ruleId: string, expected: Set<string>) => {
        const got = merged.filter((c) => c.ruleId === ruleId).flatMap((c) => c.runs.map((r) => r.runId));
        expect(expected.size, `rule ${ruleId} has runs to deliver`).toBeGreaterThan(20);
        expect(
          [...expected].filter((id) => !got.includes(id)),
          `rule ${ruleId}: lost`,
        ).toEqual([]);
        const seen = new Set<string>();
        const extra = got.filter((id) => (!expected.has(id) || seen.has(id)) && !appendedTwice.has(id));
        for (const id of got) seen.add(id);
        expect(extra, `rule ${ruleId}: unexpected or twice`).toEqual([]);
      };
      const producedIds = new Set(produced.map((r) => r.id));
      onceOrCopied(
        vipErrors.rule_id,
        new Set(
          traces
            .filter((t) => t.root?.tags?.includes("vip"))
            .flatMap((t) => [...t.before, t.root!, ...t.late.filter((r) => producedIds.has(r.id))])
            .filter((r) => r.status === "error")
            .map((r) => r.id),
        ),
      );
      onceOrCopied(
        toolRoots.rule_id,
        new Set(
          traces
            .filter((t) => t.root && t.before.some((r) => r.run_type === "tool"))
            .filter((t) => sampled(toolRoots.rule_id, t.root!.id, toolRoots.sampling_rate))
            .map((t) => t.root!.id),
        ),
      );

      // No run lost; a run in two windows of a rule only if the log holds it twice.
      for (const rule of rules) {
        const filter = validateFilter(rule.filter);
        if (!filter.ok) throw new Error("test rule invalid");
        const compiled = compileFilter(filter.value);
        const expected = new Set(
          appended
            .filter(
              (r) =>
                compiled(runFacts(r)) && (rule.sampling_rate >= 1 || sampled(rule.rule_id, r.id, rule.sampling_rate)),
            )
            .map((r) => r.id),
        );
        const got = merged.filter((c) => c.ruleId === rule.rule_id).flatMap((c) => c.runs.map((r) => r.runId));
        expect(new Set(got), `rule ${rule.rule_id}`).toEqual(expected);
        const seen = new Set<string>();
        const twice = got.filter((id) => seen.has(id) || (seen.add(id), false));
        expect(twice.filter((id) => !appendedTwice.has(id))).toEqual([]);
        // max_runs holds over the merged window: full chunks but the last.
        for (const c of merged.filter((x) => x.ruleId === rule.rule_id)) {
          expect(c.runs.length).toBe(c.chunkIndex < c.chunkCount - 1 ? rule.window.max_runs : c.runs.length);
          expect(c.runs.length).toBeLessThanOrEqual(rule.window.max_runs);
        }
      }
      // The kills were real: each struck a working evaluator, with the other working, while runs were
      // still being produced.
      expect(killedAt).toHaveLength(KILLS);
      // The restarts restored open traces from snapshots, and every snapshot named was found whole.
      expect(starts.fromOpenTraces).toBeGreaterThan(0);
      expect(starts.snapshotMissed).toBe(0);
      expect(killsWhileProducing).toBe(KILLS);
      console.log(
        `[crash test] ${produced.length} runs over ${RUNS_PARTITIONS} partitions, two evaluators, ${KILLS} SIGKILLs ` +
          `(committed offsets at each kill: ${killedAt.join(", ")}): ${chunkCount} merged chunks, identical to the ` +
          `uninterrupted evaluation; ${crashy.reEmitted} parts re-emitted identically, ${crashy.duplicatesDropped} dropped ` +
          `by the assembler; ${appended.length - produced.length} runs appended twice by the producer's retries; ` +
          `${starts.fromSnapshot} partition starts from a trace snapshot (${starts.fromOpenTraces} with open traces)`,
      );
    } finally {
      await admin.disconnect();
    }
  }, 900_000);
});
