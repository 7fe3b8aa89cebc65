import { join } from "node:path";
import { connectDatabase, migrate, redactDatabaseUrl, type SecretKeyring } from "@runhooks/db";
import {
  createKafka,
  describeKafkaSecurity,
  describeMismatch,
  ensureTopics,
  kafkaSecurityOf,
  topicNames,
  topicSpecs,
  waitForTopics,
  type KafkaSecurity,
  setTopicSettings,
} from "@runhooks/kafka";
import type { InfraEnv } from "./env.js";
import { InfraError } from "./errors.js";
import type { Report } from "./kafka-dist.js";
import { kafkaStatus, startKafka, stopKafka } from "./kafka-broker.js";
import { defaultStateDir } from "./paths.js";
import { postgresStatus, startPostgres, stopPostgres } from "./postgres.js";
import { planPartitions } from "./topic-partitions.js";
import { planSettings } from "./topic-settings.js";

export type Origin = "started" | "reused" | "external";

export interface Stack {
  readonly brokers: string[];
  /** How clients reach an external cluster (KAFKA_TLS_*, KAFKA_SASL_*); undefined: PLAINTEXT. */
  readonly kafkaSecurity?: KafkaSecurity;
  readonly kafka: Origin;
  readonly databaseUrl: string;
  readonly postgres: Origin;
  readonly stateDir: string;
  /** Stops what this call started, and nothing else. */
  stop(): Promise<void>;
  /** Undefined while every local component we run is alive; otherwise what went wrong. */
  health(): Promise<string | undefined>;
}

/** Brings up Kafka and Postgres (or adopts the configured ones); nothing else. */
export async function startStack(env: InfraEnv, report: Report): Promise<Stack> {
  const stateDir = env.RUNHOOKS_STATE_DIR ?? defaultStateDir();
  const kafkaDir = join(stateDir, "kafka");
  const pgDir = join(stateDir, "postgres");
  const stops: (() => Promise<void>)[] = [];
  const checks: (() => Promise<string | undefined>)[] = [];
  const health = async () => {
    for (const check of checks) {
      const problem = await check();
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };

  try {
    let brokers: string[];
    let kafka: Origin;
    let kafkaSecurity: KafkaSecurity | undefined;
    if (env.KAFKA_BROKERS) {
      brokers = env.KAFKA_BROKERS;
      kafka = "external";
      kafkaSecurity = kafkaSecurityOf(env);
    } else {
      const broker = await startKafka({
        dir: kafkaDir,
        version: env.RUNHOOKS_KAFKA_VERSION,
        port: env.RUNHOOKS_KAFKA_PORT,
        controllerPort: env.RUNHOOKS_KAFKA_CONTROLLER_PORT,
        heap: env.RUNHOOKS_KAFKA_HEAP,
        ...(env.RUNHOOKS_KAFKA_CACHE_DIR ? { cacheDir: env.RUNHOOKS_KAFKA_CACHE_DIR } : {}),
        report,
      });
      brokers = broker.brokers;
      kafka = broker.started ? "started" : "reused";
      checks.push(async () =>
        (await kafkaStatus(kafkaDir)).running ? undefined : `the Kafka broker stopped; see ${broker.logFile}`,
      );
      if (broker.started) {
        stops.push(async () => {
          report("stopping Kafka…");
          report(`Kafka ${await stopKafka(kafkaDir)}`);
        });
      }
    }

    let databaseUrl: string;
    let postgres: Origin;
    if (env.DATABASE_URL) {
      databaseUrl = env.DATABASE_URL;
      postgres = "external";
    } else {
      const pg = await startPostgres({ dir: pgDir, port: env.RUNHOOKS_PG_PORT, database: "runhooks", report });
      databaseUrl = pg.url;
      postgres = pg.started ? "started" : "reused";
      checks.push(async () =>
        (await postgresStatus(pgDir)).running ? undefined : `PostgreSQL stopped; see ${join(pgDir, "logs")}`,
      );
      if (pg.started) {
        stops.push(async () => {
          report("stopping PostgreSQL…");
          report(`PostgreSQL ${await stopPostgres(pgDir)}`);
        });
      }
    }
    return { brokers, kafkaSecurity, kafka, databaseUrl, postgres, stateDir, stop, health };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface PrepareReport {
  readonly topicsCreated: readonly string[];
  readonly topicsVerified: readonly string[];
  /** `topic: from → to partitions`, for each topic given more partitions. */
  readonly topicsRaised: readonly string[];
  readonly topicProblems: readonly string[];
  readonly migrationsApplied: readonly string[];
}

type Admin = ReturnType<ReturnType<typeof createKafka>["admin"]>;

/**
 * Creates or verifies the topics (raising the runs topic's partitions when asked to, refusing to raise
 * the windows topic's: `planPartitions`): what `prepareStack` does with Kafka.
 */
export async function prepareTopics(
  admin: Admin,
  env: Pick<InfraEnv, "RUNHOOKS_TOPIC_PREFIX" | "RUNHOOKS_RUNS_PARTITIONS" | "RUNHOOKS_WINDOWS_PARTITIONS">,
): Promise<Pick<PrepareReport, "topicsCreated" | "topicsVerified" | "topicsRaised" | "topicProblems">> {
  const prefix = env.RUNHOOKS_TOPIC_PREFIX;
  const topics = await ensureTopics(
    admin,
    topicSpecs({
      prefix,
      runsPartitions: env.RUNHOOKS_RUNS_PARTITIONS,
      windowsPartitions: env.RUNHOOKS_WINDOWS_PARTITIONS,
    }),
  );
  const plan = planPartitions(topics.mismatches, topicNames(prefix));
  if (plan.refusal !== undefined) throw new InfraError("windows_partitions_fixed", plan.refusal);
  if (plan.raise.length > 0) {
    await admin.createPartitions({ topicPartitions: plan.raise.map((r) => ({ topic: r.topic, count: r.to })) });
    await waitForTopics(
      admin,
      plan.raise.map((r) => r.topic),
    );
  }
  const settings = planSettings(plan.warnings);
  // A cluster that refuses the change (no AlterConfigs permission, a managed Kafka's policy) is told
  // to the operator like any other mismatch: it does not stop the stack from being prepared.
  const refused = await setTopicSettings(admin, settings.apply).then(
    () => undefined,
    (error: unknown) => String(error),
  );
  const applied = refused === undefined ? settings.apply : [];
  return {
    topicsCreated: topics.created,
    topicsVerified: topics.verified,
    topicsRaised: [
      ...plan.raise.map((r) => `${r.topic}: ${r.from} → ${r.to} partitions`),
      ...applied.map((m) => `${m.topic}: ${m.setting} ${m.actual} → ${m.expected}`),
    ],
    topicProblems: [
      ...settings.warnings.map(describeMismatch),
      ...(refused === undefined
        ? []
        : settings.apply.map(
            (m) =>
              `${m.topic}: ${m.setting} is ${m.actual}, needs ${m.expected}; the cluster refused to change it ` +
              `(${refused}): set it by hand (kafka-configs --alter --add-config ${m.setting}=${m.expected})`,
          )),
    ],
  };
}

/**
 * Creates or verifies the topics and migrates the database: what every service needs before it runs.
 * `secrets`: the key migrations seal stored webhook secrets with (migration 014).
 */
export async function prepareStack(
  env: InfraEnv,
  stack: Pick<Stack, "brokers" | "kafkaSecurity" | "databaseUrl">,
  secrets?: SecretKeyring,
): Promise<PrepareReport> {
  const admin = createKafka({
    brokers: stack.brokers,
    security: stack.kafkaSecurity,
    clientId: "runhooks-infra",
    logLevel: "error",
  }).admin();
  await admin.connect();
  let topics;
  try {
    topics = await prepareTopics(admin, env);
  } finally {
    await admin.disconnect();
  }
  const db = connectDatabase({ url: stack.databaseUrl, poolSize: 1, secrets });
  let migrations;
  try {
    migrations = await migrate(db);
  } finally {
    await db.dispose();
  }
  return { ...topics, migrationsApplied: migrations.applied.map((m) => `${m.version}_${m.name}`) };
}

export function describeStack(stack: Stack): string[] {
  const security = stack.kafkaSecurity === undefined ? "" : `, ${describeKafkaSecurity(stack.kafkaSecurity)}`;
  return [
    `Kafka       ${stack.brokers.join(",")}  (${stack.kafka}${security})`,
    `PostgreSQL  ${redactDatabaseUrl(stack.databaseUrl)}  (${stack.postgres})`,
  ];
}
