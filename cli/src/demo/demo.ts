import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connectDatabase } from "@runhooks/db";
import { SERVICES, repoRoot, serviceGroups, startEngine, type Engine, type InfraEnv } from "@runhooks/infra";
import { createKafka, topicNames } from "@runhooks/kafka";
import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError } from "../io.js";
import type { Progress } from "../progress.js";
import { readRuleFiles } from "../rule-files.js";
import { openRunsProducer } from "../runs/producer.js";
import { drainState, isDrained, type DrainState } from "./drain.js";
import { startReceiver, type ReceivedRequest } from "./receiver.js";
import { generateRuns, type GeneratedRun, type TrafficTenant } from "./run-generator.js";
import { formatSummary, receivedFigures, recordedFigures, type DemoRule, type DemoSummary } from "./summary.js";
import { seededRandom, seededUuid } from "./random.js";

export interface DemoOptions {
  /** The stack: embedded Kafka/Postgres in the state dir, or KAFKA_BROKERS / DATABASE_URL. */
  readonly infraEnv: InfraEnv;
  /** What the services read (groups, log level…); the demo overrides ports and the SSRF allow-list. */
  readonly processEnv: NodeJS.ProcessEnv;
  readonly runs: number;
  readonly seed: number;
  /** Runs per second while streaming. */
  readonly rate: number;
  readonly drainTimeoutMs: number;
  /** The example rules applied (default examples/rules/ of the checkout). */
  readonly rulesDir?: string;
  /** Progress lines, one step each. */
  readonly say: (line: string) => void;
  /** A progress bar for streaming and draining. */
  readonly progress: () => Progress;
}

export interface DemoResult {
  readonly summary: DemoSummary;
  readonly table: string;
  readonly drained: boolean;
  readonly tenantId: string;
  /** The demo tenant's API key (the demo never prints it; for a caller that wants to look around). */
  readonly apiKey: string;
  readonly rules: readonly DemoRule[];
  readonly runs: readonly GeneratedRun[];
  /** Run id → its Kafka append time (ms). */
  readonly appendTimes: ReadonlyMap<string, number>;
  readonly received: readonly ReceivedRequest[];
  readonly databaseUrl: string;
}

interface StoredRule {
  id: string;
  effective_from: string | null;
}

async function must<T>(client: ApiClient, method: string, path: string, body?: unknown): Promise<T> {
  const answer = await client.request<T>(method, path, body);
  if (!answer.ok) throw new CliError(`${method} ${path}: ${describeRefusal(answer).join("; ")}`);
  return answer.body;
}

/**
 * The demo, end to end: the engine (every service, in this process), a tenant, the example rules
 * pointed at a local receiver that verifies signatures, a stream of generated runs, the wait until
 * every window has been delivered, and the summary — computed from what Postgres recorded and what the
 * receiver got. Stops everything it started, whatever happens.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const say = o.say;
  const signingSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const receiver = await startReceiver({ signingSecret, failOneFirstAttemptIn: 4 });
  let engine: Engine | undefined;
  try {
    say(`starting the engine (Kafka, PostgreSQL, ${SERVICES.join(", ")})…`);
    const started = Date.now();
    engine = await startEngine(o.infraEnv, SERVICES, (line) => say(line), {
      ...o.processEnv,
      RUNHOOKS_API_PORT: "0",
      RUNHOOKS_EVALUATOR_PORT: "-1",
      RUNHOOKS_DELIVERY_PORT: "-1",
      RUNHOOKS_BACKFILL_PORT: "-1",
      // The receiver is on this machine: allow exactly its address past the SSRF guard.
      RUNHOOKS_DELIVERY_ALLOW_CIDRS: "127.0.0.1/32",
      RUNHOOKS_LOG_LEVEL: o.processEnv["RUNHOOKS_LOG_LEVEL"] ?? "error",
    });
    const apiUrl = engine.services.find((s) => s.name === "api")?.url;
    if (apiUrl === undefined) throw new Error("the engine started no API");
    say(
      `engine ready in ${((Date.now() - started) / 1000).toFixed(1)} s (Kafka ${engine.stack.kafka}, PostgreSQL ${engine.stack.postgres}); receiver at ${receiver.url}`,
    );

    const adminKey =
      o.processEnv["RUNHOOKS_ADMIN_KEY"] ||
      (engine.adminKeyFile ? (await readFile(engine.adminKeyFile, "utf8")).trim() : undefined);
    const base: CliConfig = {
      apiUrl,
      apiKey: undefined,
      adminKey,
      kafkaBrokers: engine.stack.brokers,
      topicPrefix: o.infraEnv.RUNHOOKS_TOPIC_PREFIX,
    };
    const created = await must<{ tenant: { id: string }; api_key: { key: string } }>(
      new ApiClient(base, "admin"),
      "POST",
      "/admin/tenants",
      {
        name: `demo-${new Date().toISOString().slice(0, 19)}`,
      },
    );
    const tenantId = created.tenant.id;
    const api = new ApiClient({ ...base, apiKey: created.api_key.key });

    // The examples, each with a fresh id (rule ids are global and bound to their tenant forever),
    // their webhooks pointed at the receiver and signed with the demo's secret.
    const rulesDir = o.rulesDir ?? join(repoRoot, "examples/rules");
    const { entries, problems } = await readRuleFiles(rulesDir, process.cwd());
    if (problems.length > 0) throw new CliError(`the example rules have problems:\n  ${problems.join("\n  ")}`);
    const rules: DemoRule[] = [];
    for (const entry of entries) {
      const doc = entry.document as {
        display_name?: string;
        window?: { seconds?: number };
        webhooks?: { url: string; headers?: unknown }[];
      };
      const id = randomUUID();
      const webhooks = (doc.webhooks ?? []).map((w) => {
        const url = new URL(w.url);
        return {
          url: `${receiver.url}${url.pathname}${url.search}`,
          ...(w.headers ? { headers: w.headers } : {}),
          signing_secret: signingSecret,
        };
      });
      await must(api, "PUT", `/rules/${id}`, { ...entry.document, id, webhooks });
      rules.push({ id, name: doc.display_name ?? entry.source, windowSeconds: doc.window?.seconds ?? 0 });
    }
    // A rule is in force once the relay has put it on the rules topic.
    for (let i = 0; ; i++) {
      const listed = await must<{ rules: StoredRule[] }>(api, "GET", "/rules");
      if (listed.rules.filter((r) => rules.some((d) => d.id === r.id)).every((r) => r.effective_from !== null)) break;
      if (i > 200) throw new Error("the rules were not published to Kafka within 20 s; is the API's relay running?");
      await sleep(100);
    }
    say(`tenant ${tenantId}: ${rules.length} rules from ${rulesDir} in force`);

    // Traffic: the demo tenant's projects, and two other tenants whose runs the demo's rules never see.
    const random = seededRandom(o.seed ^ 0x5eed);
    const project = (name: string) => ({ id: seededUuid(random), name });
    const tenants: TrafficTenant[] = [
      {
        id: tenantId,
        name: "demo",
        weight: 6,
        projects: [project("support-bot"), project("docs-qa"), project("agent-playground")],
      },
      { id: seededUuid(random), name: "other-1", weight: 2, projects: [project("search")] },
      { id: seededUuid(random), name: "other-2", weight: 2, projects: [project("summaries"), project("evals")] },
    ];
    const runs = generateRuns({ seed: o.seed, runs: o.runs, tenants, now: Date.now() });
    const kafka = createKafka({
      brokers: engine.stack.brokers,
      security: engine.stack.kafkaSecurity,
      clientId: "runhooks-demo",
      logLevel: "error",
      logger: () => undefined,
    });
    const producer = await openRunsProducer(kafka, o.infraEnv.RUNHOOKS_TOPIC_PREFIX);
    const appendTimes = new Map<string, number>();
    const bar = o.progress();
    const chunk = Math.max(1, Math.round(o.rate / 10));
    const streamStart = Date.now();
    try {
      for (let i = 0; i < runs.length; i += chunk) {
        const slice = runs.slice(i, i + chunk).map((r) => ({ id: r.id, key: r.trace_id, json: JSON.stringify(r) }));
        for (const [id, t] of await producer.send(slice)) appendTimes.set(id, t);
        bar.update(i + slice.length, runs.length, `${i + slice.length} of ${runs.length} runs produced`);
        const due = streamStart + ((i + slice.length) / o.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
    } finally {
      await producer.close();
    }
    bar.finish(
      `produced ${runs.length} runs in ${((Date.now() - streamStart) / 1000).toFixed(1)} s (3 tenants, 6 projects)`,
    );

    // Drained: every window closed, stored, delivered and seen by the receiver.
    const names = topicNames(o.infraEnv.RUNHOOKS_TOPIC_PREFIX);
    const admin = kafka.admin();
    await admin.connect();
    const db = connectDatabase({ url: engine.stack.databaseUrl, poolSize: 2 });
    const groups = await serviceGroups(admin, o.infraEnv);
    const drainStart = Date.now();
    let state: DrainState | undefined;
    let drained = false;
    const wait = o.progress();
    const longest = Math.max(...rules.map((r) => r.windowSeconds)) * 1000;
    try {
      while (Date.now() - drainStart < o.drainTimeoutMs) {
        state = await drainState({
          admin,
          db,
          runsTopic: names.runs,
          windowsTopic: names.windows,
          evaluatorGroup: groups.evaluator,
          deliveryGroup: groups.delivery,
          ruleIds: rules.map((r) => r.id),
          received: receiver.requests,
        });
        if (isDrained(state)) {
          drained = true;
          break;
        }
        wait.update(
          Math.min(Date.now() - drainStart, longest),
          longest,
          `waiting for windows to close and be delivered: ${state.finishedDeliveries} deliveries done, ${state.openDeliveries} open, ` +
            `${state.evaluatorLag} runs and ${state.deliveryLag} windows not yet committed`,
        );
        await sleep(200);
      }
      const drainMs = Date.now() - drainStart;
      wait.finish(
        drained
          ? `all windows delivered ${(drainMs / 1000).toFixed(1)} s after the last run`
          : `gave up waiting after ${(drainMs / 1000).toFixed(0)} s: ${JSON.stringify(state)}`,
      );
      const summary: DemoSummary = {
        runsProduced: runs.length,
        rules,
        recorded: await recordedFigures(
          db,
          rules.map((r) => r.id),
        ),
        received: receivedFigures(receiver.requests, appendTimes),
        drainMs,
      };
      return {
        summary,
        table: formatSummary(summary),
        drained,
        tenantId,
        apiKey: created.api_key.key,
        rules,
        runs,
        appendTimes,
        received: [...receiver.requests],
        databaseUrl: engine.stack.databaseUrl,
      };
    } finally {
      await db.dispose();
      await admin.disconnect();
    }
  } finally {
    say("stopping what the demo started…");
    await engine?.stop();
    await receiver.close();
  }
}
