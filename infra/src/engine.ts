import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { apiOptionsFromEnv, readApiEnv, startApi } from "@runhooks/api";
import { backfillOptionsFromEnv, readBackfillEnv, startBackfillService } from "@runhooks/backfill";
import { deliveryOptionsFromEnv, readDeliveryEnv, startDelivery } from "@runhooks/delivery";
import { evaluatorOptionsFromEnv, readEvaluatorEnv, startEvaluator } from "@runhooks/evaluator";
import { ingestOptionsFromEnv, readIngestEnv, startIngest } from "@runhooks/ingest";
import { jsonLogger } from "@runhooks/telemetry";
import type { InfraEnv } from "./env.js";
import type { Report } from "./kafka-dist.js";
import { localSecretsKey } from "./secrets-key.js";
import { serviceDatabaseUrls } from "./service-roles.js";
import { prepareStack, startStack, type PrepareReport, type Stack } from "./stack.js";

export const SERVICES = ["api", "ingest", "evaluator", "delivery", "backfill"] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface RunningService {
  readonly name: ServiceName;
  /** What the user needs to know: where it listens. */
  readonly summary: string;
  /** Its base URL, for a service that answers requests (the API). */
  readonly url?: string;
  stop(): Promise<void>;
}

export interface Engine {
  readonly stack: Stack;
  readonly prepared: PrepareReport;
  readonly services: readonly RunningService[];
  /** Where the local admin key is kept (when runhooks generated it). */
  readonly adminKeyFile?: string;
  stop(): Promise<void>;
}

/**
 * The admin key of a local engine: RUNHOOKS_ADMIN_KEY when set; otherwise one generated once and kept
 * in the (git-ignored) state folder, readable by its owner only. It is never printed.
 */
async function localAdminKey(stateDir: string, env: NodeJS.ProcessEnv): Promise<{ key: string; file?: string }> {
  const given = env["RUNHOOKS_ADMIN_KEY"];
  if (given) return { key: given };
  const file = join(stateDir, "admin-key");
  if (existsSync(file)) return { key: (await readFile(file, "utf8")).trim(), file };
  const key = `rhadm_${randomBytes(24).toString("base64url")}`;
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return { key, file };
}

/**
 * Every service logs to the one terminal that shows the engine's own report: at the default level
 * (`info`) they log warnings and errors only; any other level is taken as set.
 */
function quieter<L extends string>(level: L): L | "warn" {
  return level === "info" ? "warn" : level;
}

/**
 * Everything `npm start` runs, in one process: Kafka and PostgreSQL (or the configured ones), the
 * topics and migrations, then the chosen services, each configured by its own env.ts from the same
 * environment with the stack's addresses filled in.
 */
export async function startEngine(
  env: InfraEnv,
  only: readonly ServiceName[],
  report: Report,
  processEnv: NodeJS.ProcessEnv = process.env,
): Promise<Engine> {
  const stack = await startStack(env, report);
  const services: RunningService[] = [];
  const stop = async () => {
    for (const s of [...services].reverse()) {
      report(`stopping ${s.name}…`);
      await s.stop().catch((error: unknown) => report(`${s.name} did not stop cleanly: ${String(error)}`));
    }
    await stack.stop();
  };
  try {
    const secrets = await localSecretsKey(stack.stateDir, processEnv);
    const prepared = await prepareStack(env, stack, secrets.keyring);
    const admin = await localAdminKey(stack.stateDir, processEnv);
    const serviceEnv: NodeJS.ProcessEnv = {
      ...processEnv,
      ...secrets.env,
      KAFKA_BROKERS: stack.brokers.join(","),
      DATABASE_URL: stack.databaseUrl,
      RUNHOOKS_TOPIC_PREFIX: env.RUNHOOKS_TOPIC_PREFIX,
      RUNHOOKS_ADMIN_KEY: admin.key,
    };

    // Each service under its own database role (migration 015), when this connection may create them.
    const roles = await serviceDatabaseUrls(stack.databaseUrl, stack.stateDir);
    if (!roles.ok) report(`database roles: not created (${roles.reason}); every service uses DATABASE_URL's role`);
    const databaseOf = (service: "api" | "ingest" | "delivery") => ({
      DATABASE_URL: roles.ok ? roles.urls[service] : stack.databaseUrl,
    });

    if (only.includes("api")) {
      const apiEnv = readApiEnv({ ...serviceEnv, ...databaseOf("api") });
      const api = await startApi({
        ...apiOptionsFromEnv(apiEnv, { level: quieter(apiEnv.RUNHOOKS_LOG_LEVEL) }),
        migrate: false,
      });
      services.push({
        name: "api",
        url: api.url,
        summary: `${api.url}  (rules, deliveries, admin)`,
        stop: () => api.close(),
      });
    }
    if (only.includes("ingest")) {
      const ingestEnv = readIngestEnv({ ...serviceEnv, ...databaseOf("ingest") });
      const log = jsonLogger("ingest", quieter(ingestEnv.RUNHOOKS_LOG_LEVEL));
      const ingest = await startIngest({ ...ingestOptionsFromEnv(ingestEnv, log), migrate: false });
      services.push({
        name: "ingest",
        summary: `${ingest.url}  (LangSmith run ingestion: LANGSMITH_ENDPOINT)`,
        stop: () => ingest.stop(),
      });
    }
    if (only.includes("evaluator")) {
      const evaluatorEnv = readEvaluatorEnv(serviceEnv);
      const log = jsonLogger("evaluator", quieter(evaluatorEnv.RUNHOOKS_LOG_LEVEL));
      const evaluator = await startEvaluator(evaluatorOptionsFromEnv(evaluatorEnv, log));
      services.push({
        name: "evaluator",
        summary: `${evaluator.url ?? "(no HTTP)"}  (/healthz, /metrics)`,
        stop: () => evaluator.stop(),
      });
    }
    if (only.includes("delivery")) {
      const deliveryEnv = readDeliveryEnv({ ...serviceEnv, ...databaseOf("delivery") });
      const delivery = await startDelivery({ ...deliveryOptionsFromEnv(deliveryEnv), migrate: false });
      services.push({
        name: "delivery",
        summary: `${delivery.url ?? "(no HTTP)"}  (/healthz, /metrics)`,
        stop: () => delivery.stop(),
      });
    }
    if (only.includes("backfill")) {
      const backfillEnv = readBackfillEnv({ ...serviceEnv, ...databaseOf("delivery") });
      const log = jsonLogger("backfill", quieter(backfillEnv.RUNHOOKS_LOG_LEVEL));
      // In the engine's process (no nice of its own): `runhooks-backfill` alone runs at RUNHOOKS_BACKFILL_NICE.
      const backfill = await startBackfillService({ ...backfillOptionsFromEnv(backfillEnv, log), migrate: false });
      services.push({
        name: "backfill",
        summary: `${backfill.url ?? "(no HTTP)"}  (/healthz, /metrics; backfills of rules over past runs)`,
        stop: () => backfill.stop(),
      });
    }
    return { stack, prepared, services, ...(admin.file ? { adminKeyFile: admin.file } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
