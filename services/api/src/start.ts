import { hostname } from "node:os";
import { connectDatabase, migrate, type SecretKeyring } from "@runhooks/db";
import {
  createKafka,
  ensureTopics,
  topicNames,
  topicSpecs,
  describeMismatch,
  checkLogRange,
  type KafkaSecurity,
} from "@runhooks/kafka";
import type { FastifyServerOptions } from "fastify";
import type { Admin, Kafka } from "kafkajs";
import { OTEL_OFF, createTelemetry, type OtelConfig } from "@runhooks/telemetry";
import { buildApp, type AppOptions } from "./http/app.js";
import type { ApiLimits } from "./limits.js";
import { createApiCounters, registerApiMetrics } from "./metrics.js";
import { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from "./relay/outbox-relay.js";
import { startRuleErrorsConsumer } from "./rule-errors/consumer.js";

export interface StartApiOptions {
  readonly databaseUrl: string;
  /** The keys sealing webhook secrets (RUNHOOKS_SECRETS_KEY); without them rules can be neither read nor written. */
  readonly secrets: SecretKeyring | undefined;
  readonly kafkaBrokers: readonly string[];
  /** TLS and SASL to the brokers (KAFKA_TLS_*, KAFKA_SASL_*); default PLAINTEXT. */
  readonly kafkaSecurity?: KafkaSecurity;
  /** Default `runhooks`: the relay publishes to `<prefix>.rules`. */
  readonly topicPrefix?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 8080; 0 picks a free port (see `url`). */
  readonly port?: number;
  readonly adminKey?: string | undefined;
  /** Fastify's (pino) logger options, or false (the default). Secrets are redacted whatever is passed. */
  readonly logger?: FastifyServerOptions["logger"];
  /** Run the outbox relay in this process (default true), optionally with overrides. */
  readonly relay?: boolean | Partial<Pick<OutboxRelayOptions, "batchSize" | "pollIntervalMs" | "retryDelayMs">>;
  /**
   * Store the rule-errors topic's records for GET /rules/:id/errors (default true; consumer group
   * `<prefix>-api-rule-errors` unless given).
   */
  readonly ruleErrors?: boolean | { readonly groupId?: string };
  /** Apply pending migrations first (default true; safe when several services start at once). */
  readonly migrate?: boolean;
  /** OpenTelemetry (OTEL_* variables): metrics over OTLP when configured; /metrics always. */
  readonly otel?: OtelConfig;
  /** `service.instance.id` of the telemetry; default host-pid. */
  readonly instanceId?: string;
  /** Per-tenant quotas (`apiLimitsFromEnv`; default DEFAULT_API_LIMITS). */
  readonly limits?: ApiLimits;
  /** Caps on `POST /rules/test` (RUNHOOKS_API_DRY_RUN_*). */
  readonly dryRun?: AppOptions["dryRun"];
  /** Requests per API key (default 100 per second, bursts of 1,000). */
  readonly rateLimit?: AppOptions["rateLimit"];
  /** How long a wrong API key is refused without asking the database again (default 5,000 ms). */
  readonly wrongKeyCacheMs?: number;
}

/** The rule-errors consumer group unless RUNHOOKS_API_RULE_ERRORS_GROUP names another: one per prefix. */
export function ruleErrorsGroup(topicPrefix = "runhooks"): string {
  return `${topicPrefix}-api-rule-errors`;
}

export interface RunningApi {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The API's composition root: database, migrations, the rules topic, the HTTP server and the outbox
 * relay. Used by `main.ts` and, in-process, by tests and the start command.
 */
export async function startApi(options: StartApiOptions): Promise<RunningApi> {
  const db = connectDatabase({
    url: options.databaseUrl,
    applicationName: "runhooks-api",
    secrets: options.secrets,
  });
  const telemetry = createTelemetry(options.otel ?? OTEL_OFF, {
    name: "runhooks-api",
    version: "0.1.0",
    instanceId: options.instanceId ?? `${hostname()}-${process.pid}`,
  });
  const counters = createApiCounters();
  registerApiMetrics(telemetry.meter, counters);
  const cleanups: (() => Promise<void>)[] = [() => telemetry.shutdown().catch(() => undefined), () => db.dispose()];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    if (options.migrate !== false) await migrate(db);
    const kafka = createKafka({
      brokers: options.kafkaBrokers,
      clientId: "runhooks-api",
      logLevel: "error",
      security: options.kafkaSecurity,
    });
    const topics = topicNames(options.topicPrefix);
    const runsLog = lazyRunsLog(kafka, topics.runs);
    cleanups.push(() => runsLog.close());
    const app = buildApp({
      runsLog: runsLog.check,
      db,
      adminKey: options.adminKey,
      logger: options.logger ?? false,
      counters,
      metrics: () => telemetry.prometheus(),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      dryRun: options.dryRun,
      rateLimit: options.rateLimit,
      wrongKeyCacheMs: options.wrongKeyCacheMs,
    });
    cleanups.push(() => app.close());

    let relay: OutboxRelay | undefined;
    const ruleErrors = options.ruleErrors ?? true;
    if (options.relay !== false || ruleErrors !== false) {
      // Only the topics the API writes or reads; a live topic is checked, never altered.
      const used = new Set([
        ...(options.relay !== false ? [topics.rules] : []),
        ...(ruleErrors !== false ? [topics.ruleErrors] : []),
      ]);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const report = await ensureTopics(
          admin,
          topicSpecs({ prefix: options.topicPrefix }).filter((s) => used.has(s.name)),
        );
        for (const m of report.mismatches) app.log.warn({ topic: m.topic }, describeMismatch(m));
      } finally {
        await admin.disconnect();
      }
    }
    if (ruleErrors !== false) {
      const consumer = await startRuleErrorsConsumer({
        kafka,
        db,
        topic: topics.ruleErrors,
        // Per prefix: installations (and test runs) sharing a cluster never share the group.
        groupId:
          (typeof ruleErrors === "object" ? ruleErrors.groupId : undefined) ?? ruleErrorsGroup(options.topicPrefix),
        log: app.log,
        onStored: (n) => (counters.ruleErrorsStored += n),
      });
      cleanups.push(() => consumer.stop());
    }
    if (options.relay !== false) {
      relay = startOutboxRelay({
        db,
        databaseUrl: options.databaseUrl,
        kafka,
        topic: topics.rules,
        log: app.log,
        onPublished: (n) => (counters.relayPublished += n),
        onFailure: () => counters.relayFailures++,
        ...(typeof options.relay === "object" ? options.relay : {}),
      });
      const running = relay;
      cleanups.push(() => running.stop());
    }

    const address = await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 8080 });
    const bound = app.server.address();
    const url =
      typeof bound === "object" && bound !== null ? `http://${options.host ?? "127.0.0.1"}:${bound.port}` : address;
    return { url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Whether the runs topic still holds every run since a time (`checkLogRange`), through an admin client
 * connected on first use: only backfills ask.
 */
function lazyRunsLog(kafka: Kafka, topic: string) {
  let admin: Promise<Admin> | undefined;
  const connected = () =>
    (admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })().catch((error: unknown) => {
      admin = undefined;
      throw error;
    }));
  return {
    check: async (fromMs: number, nowMs: number) => checkLogRange(await connected(), topic, fromMs, nowMs),
    close: async () => {
      if (admin !== undefined) await (await admin.catch(() => undefined))?.disconnect();
    },
  };
}
