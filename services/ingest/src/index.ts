import { connectDatabase, expirePendingRuns, migrate } from "@runhooks/db";
import { createKafka, describeMismatch, ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { OTEL_OFF, createTelemetry, jsonLogger } from "@runhooks/telemetry";
import { buildIngestApp } from "./app.js";
import { createCounters, type Counters } from "./counters.js";
import { DEFAULT_MAX_JSON_DEPTH } from "@runhooks/limits";
import { registerIngestMetrics } from "./metrics.js";
import { DEFAULT_MAX_PARTS } from "./multipart.js";
import type { IngestOptions } from "./options.js";
import { PendingQuota, countPendingByTenant } from "./pending-quota.js";
import { ProjectCache } from "./projects.js";
import { startProducerThread } from "./producer-thread.js";
import { tracedSink } from "./traced-sink.js";

export { readIngestEnv, IngestEnv } from "./env.js";
export { ingestOptionsFromEnv } from "./options.js";
export type { IngestOptions } from "./options.js";
export { INGEST_METRICS } from "./metrics.js";
export { INGEST_NODE_FLAGS } from "./node-flags.js";

export interface Ingest {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly counters: Counters;
  /** Runs the expiry of incomplete runs now (it also runs on a timer). */
  expireNow(): Promise<void>;
  stop(): Promise<void>;
}

const VERSION = "0.1.0";

/** The ingest service's composition root: HTTP in; the runs topic and `ingest_pending` out. */
export async function startIngest(o: IngestOptions): Promise<Ingest> {
  const log = o.log ?? jsonLogger("ingest", "info");
  const counters = createCounters();
  const topic = topicNames(o.topicPrefix).runs;
  const maxBodyBytes = o.maxBodyBytes ?? 20 * 1024 * 1024;
  const pendingTtlMs = o.pendingTtlMs ?? 24 * 60 * 60 * 1000;
  const db = connectDatabase({ url: o.databaseUrl, poolSize: o.dbPoolSize ?? 10, applicationName: "runhooks-ingest" });
  const telemetry = createTelemetry(o.otel ?? OTEL_OFF, {
    name: "runhooks-ingest",
    version: VERSION,
    instanceId: o.instanceId,
  });
  const cleanups: (() => Promise<void>)[] = [
    () =>
      telemetry
        .shutdown()
        .catch((error: unknown) => log("warn", "could not export the last telemetry", { error: String(error) })),
    () => db.dispose(),
  ];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    if (o.migrate !== false) await migrate(db);
    const kafka = createKafka({
      brokers: o.brokers,
      clientId: `runhooks-ingest-${o.instanceId}`,
      security: o.kafkaSecurity,
      logger: (level, message, fields) => log(level === "error" ? "warn" : level, message, fields),
      logLevel: "error",
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const report = await ensureTopics(
        admin,
        topicSpecs({ prefix: o.topicPrefix }).filter((s) => s.name === topic),
      );
      for (const m of report.mismatches) log("warn", describeMismatch(m), { topic: m.topic });
    } finally {
      await admin.disconnect();
    }
    const produceTimeoutMs = o.produceTimeoutMs ?? 10_000;
    const producer = await startProducerThread({
      brokers: o.brokers,
      security: o.kafkaSecurity,
      clientId: `runhooks-ingest-${o.instanceId}`,
      topic,
      timeoutMs: produceTimeoutMs,
      log,
    });
    cleanups.push(() => producer.stop());
    const sink = tracedSink(telemetry, topic, producer);

    let pendingGauge = 0;
    registerIngestMetrics(telemetry.meter, counters, () => pendingGauge);
    const pendingQuota = new PendingQuota(o.maxPendingPerTenant ?? 50_000);
    let lastSweepError: string | undefined;
    const expireNow = async () => {
      try {
        const gone = await expirePendingRuns(db, pendingTtlMs);
        counters.runs_pending_expired += gone.expired;
        if (gone.expired > 0)
          log("warn", "incomplete runs expired before their end arrived", {
            expired: gone.expired,
            ttlMs: pendingTtlMs,
          });
        const byTenant = await countPendingByTenant(db);
        pendingQuota.reset(byTenant);
        pendingGauge = [...byTenant.values()].reduce((a, b) => a + b, 0);
        lastSweepError = undefined;
      } catch (error) {
        lastSweepError = String(error);
      }
    };
    const sweepEvery = Math.min(60_000, Math.max(250, Math.floor(pendingTtlMs / 4)));
    // The per-tenant estimates start from the store's counts.
    await expireNow();
    const sweeper = setInterval(() => void expireNow(), sweepEvery);
    sweeper.unref();
    cleanups.push(() => Promise.resolve(clearInterval(sweeper)));

    const app = buildIngestApp({
      db,
      sink,
      counters,
      version: VERSION,
      maxBodyBytes,
      batchSize: o.batchSize ?? 100,
      maxRunBytes: o.maxRunBytes ?? 512 * 1024,
      retryAfterSeconds: o.retryAfterSeconds ?? 5,
      keyCacheMs: o.keyCacheMs ?? 10_000,
      wrongKeyCacheMs: o.wrongKeyCacheMs ?? 5_000,
      ratePerSecond: o.ratePerSecond ?? 500,
      rateBurst: o.rateBurst ?? 5_000,
      maxParts: o.maxParts ?? DEFAULT_MAX_PARTS,
      maxJsonDepth: o.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
      pendingQuota,
      projects: new ProjectCache(),
      maxProjectsPerTenant: o.maxProjectsPerTenant ?? 10_000,
      timeouts: {
        headersMs: o.headersTimeoutMs ?? 10_000,
        requestMs: o.requestTimeoutMs ?? 120_000,
        keepAliveMs: o.keepAliveTimeoutMs ?? 65_000,
      },
      maxConnections: o.maxConnections ?? 1_024,
      log,
      health: () =>
        producer.problem() ??
        (lastSweepError === undefined ? undefined : `the pending-runs store failed: ${lastSweepError}`),
      metrics: () => telemetry.prometheus(),
    });
    cleanups.push(() => app.close());
    await app.listen({ host: o.host, port: o.port });
    const bound = app.server.address();
    const url = `http://${o.host}:${typeof bound === "object" && bound !== null ? bound.port : o.port}`;
    log("info", "ingest started", { url, topic });
    return { url, counters, expireNow, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
