// The engine as `npm start` runs it (chosen services in this process) on the local stack, with a
// database and topics of its own, dropped and deleted by `stop`.
import { randomBytes } from "node:crypto";
import { connectDatabase, sql, type Database } from "@runhooks/db";
import { readInfraEnv, startEngine, type Engine, type ServiceName, type Stack } from "@runhooks/infra";
import { deleteBenchTopics } from "./bench-topics.js";

export interface BenchEngine {
  readonly engine: Engine;
  readonly prefix: string;
  readonly databaseUrl: string;
  /** The engine's services' environment (a child process started with it joins the same engine). */
  readonly env: NodeJS.ProcessEnv;
  readonly adminKey: string;
  /** A pool on the bench's database (owner role). */
  readonly db: Database;
  /** Calls the API; throws unless it answers 2xx. */
  readonly call: (path: string, key: string, body?: unknown, method?: string) => Promise<Record<string, unknown>>;
  /** Until every rule change is published (the outbox is empty). */
  readonly rulesPublished: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startBenchEngine(
  stack: Stack,
  name: string,
  services: readonly ServiceName[],
  say: (line: string) => void,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<BenchEngine> {
  const suffix = randomBytes(4).toString("hex");
  const dbName = `rh_bench_${name}_${suffix}`;
  const adminUrl = new URL(stack.databaseUrl);
  adminUrl.pathname = "/postgres";
  const pgAdmin = connectDatabase({ url: adminUrl.toString(), poolSize: 1 });
  await pgAdmin.query(sql`CREATE DATABASE ${sql.ident(dbName)}`);
  const dbUrl = new URL(stack.databaseUrl);
  dbUrl.pathname = `/${dbName}`;
  const prefix = `bench-${name}-${suffix}`;
  const adminKey = `rhadm_${randomBytes(16).toString("hex")}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: stack.brokers.join(","),
    DATABASE_URL: dbUrl.toString(),
    RUNHOOKS_TOPIC_PREFIX: prefix,
    RUNHOOKS_ADMIN_KEY: adminKey,
    RUNHOOKS_API_PORT: "0",
    RUNHOOKS_EVALUATOR_PORT: "-1",
    RUNHOOKS_DELIVERY_PORT: "-1",
    RUNHOOKS_EVALUATOR_GROUP: `${prefix}-evaluator`,
    RUNHOOKS_DELIVERY_GROUP: `${prefix}-delivery`,
    RUNHOOKS_DELIVERY_ALLOW_CIDRS: "127.0.0.1/32",
    RUNHOOKS_LOG_LEVEL: "error",
    ...extraEnv,
  };
  const drop = async () => {
    await pgAdmin.query(sql`DROP DATABASE IF EXISTS ${sql.ident(dbName)} WITH (FORCE)`).catch(() => undefined);
    await pgAdmin.dispose();
    await deleteBenchTopics(stack.brokers, prefix);
  };
  let engine: Engine;
  try {
    engine = await startEngine(readInfraEnv(env), services, (line) => say(`[engine] ${line}`), env);
  } catch (error) {
    await drop();
    throw error;
  }
  const db = connectDatabase({ url: dbUrl.toString(), poolSize: 2 });
  const api = engine.services.find((s) => s.name === "api")?.url;
  return {
    engine,
    prefix,
    databaseUrl: dbUrl.toString(),
    env,
    adminKey,
    db,
    call: async (path, key, body, method = "POST") => {
      if (api === undefined) throw new Error("the bench engine runs no API");
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { "x-api-key": key, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, unknown>;
    },
    rulesPublished: async () => {
      for (;;) {
        const [pending] = (await db.query(sql`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL`)) as {
          n: number;
        }[];
        if (pending?.n === 0) return;
        await sleep(100);
      }
    },
    stop: async () => {
      await db.dispose();
      await engine.stop();
      await drop();
    },
  };
}
