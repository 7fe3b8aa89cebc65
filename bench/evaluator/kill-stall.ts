/**
 * How long a SIGKILLed evaluator stalls its partitions: two evaluator processes (services/evaluator's
 * main.js, the configuration of `npm start`) share a consumer group over a 6-partition runs topic; one
 * is killed, and the bench measures the time until the other owns every partition (the group's
 * assignment as the coordinator reports it). Until then the killed member's partitions are read by
 * nobody; after it, the survivor still refolds each from its checkpoint (not measured here).
 *
 *   RUNHOOKS_STATE_DIR=… npx tsx --conditions=source bench/evaluator/kill-stall.ts
 *   BENCH_KILLS=3 RUNHOOKS_SESSION_TIMEOUT_MS=6000 …   (rounds; the session timeout under test)
 *
 * Needs `npx tsc -b` first (it runs the built main.js). Prints one line per round and the median.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { createKafka, ensureTopics, topicSpecs } from "@runhooks/kafka";
import kafkajs from "kafkajs";
import { deleteBenchTopics } from "../support/bench-topics.js";
import { median } from "../support/stats.js";

const say = (line: string) => console.log(line);
const KILLS = Number(process.env["BENCH_KILLS"] ?? 3);
const SESSION_TIMEOUT_MS = Number(process.env["RUNHOOKS_SESSION_TIMEOUT_MS"] ?? 10_000);
const PARTITIONS = 6;
const main = fileURLToPath(new URL("../../services/evaluator/dist/main.js", import.meta.url));

const stack = await startStack(readInfraEnv(), (l) => say(`[stack] ${l}`));
const brokers = stack.brokers;
const prefix = `bench-stall-${randomBytes(3).toString("hex")}`;
const group = `${prefix}-evaluator`;
const kafka = createKafka({ brokers, clientId: "bench-stall", logLevel: "error", logger: () => undefined });
const admin = kafka.admin();
await admin.connect();
await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: PARTITIONS, deliveryPartitions: 1 }));

function startEvaluator(name: string): ChildProcess {
  return spawn(process.execPath, [main], {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(","),
      RUNHOOKS_TOPIC_PREFIX: prefix,
      RUNHOOKS_EVALUATOR_GROUP: group,
      RUNHOOKS_INSTANCE_ID: name,
      RUNHOOKS_EVALUATOR_PORT: "-1",
      RUNHOOKS_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      RUNHOOKS_LOG_LEVEL: "error",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** Members of the group and how many runs-topic partitions each owns, as the coordinator says. */
async function owners(): Promise<{ state: string; owned: Map<string, number> }> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups[0]!;
  const owned = new Map<string, number>();
  for (const m of g.members) {
    const decoded = kafkajs.AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    const count = Object.values(decoded?.assignment ?? {}).reduce((n, ps) => n + ps.length, 0);
    owned.set(m.clientId, count);
  }
  return { state: g.state, owned };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stalls: number[] = [];
const children: ChildProcess[] = [];
try {
  for (let round = 1; round <= KILLS; round++) {
    const victim = startEvaluator(`victim-${round}`);
    const survivor = startEvaluator(`survivor-${round}`);
    children.push(victim, survivor);
    await until("both evaluators owning partitions", async () => {
      const { state, owned } = await owners();
      return state === "Stable" && owned.size === 2 && [...owned.values()].every((n) => n > 0);
    });
    const killedAt = Date.now();
    victim.kill("SIGKILL");
    await until("the survivor owning every partition", async () => {
      const { state, owned } = await owners();
      return state === "Stable" && owned.size === 1 && [...owned.values()][0] === PARTITIONS;
    });
    const stall = Date.now() - killedAt;
    stalls.push(stall);
    say(
      `round ${round}: SIGKILL → the other member owns all ${PARTITIONS} partitions after ${stall} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`,
    );
    survivor.kill("SIGTERM");
    await new Promise((r) => survivor.once("exit", r));
    await until("an empty group", async () => (await owners()).owned.size === 0);
  }
  say(
    `median stall ${median(stalls)} ms over ${stalls.length} kills; session timeout ${SESSION_TIMEOUT_MS} ms, heartbeat ${Math.min(1000, Math.floor(SESSION_TIMEOUT_MS / 3))} ms`,
  );
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await admin.disconnect();
  await deleteBenchTopics(brokers, prefix);
  await stack.stop();
}
