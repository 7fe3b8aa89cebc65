import { connectDatabase, migrate } from "@runhooks/db";
import { JavaCompatiblePartitioner, createKafka, topicNames, type TopicNames } from "@runhooks/kafka";
import { createAddressPolicy } from "./address-policy.js";
import { createAttemptObserver } from "./attempt-observer.js";
import { createCounters, type Counters } from "./counters.js";
import {
  OTEL_OFF,
  createTelemetry,
  jsonLogger,
  startHttp,
  trackConsumerLag,
  type ConsumerLag,
} from "@runhooks/telemetry";
import { registerDeliveryMetrics } from "./metrics.js";
import { VERSION } from "./version.js";
import { createPayloadCache } from "./payload-cache.js";
import type { DeliveryOptions } from "./options.js";
import { LANGSMITH_POLICY } from "./policy.js";
import { createEventSink } from "./event-sink.js";
import { createHealthKeeper } from "./health-keeper.js";
import { createPublisher } from "./publisher.js";
import { startHousekeeping } from "./reaper.js";
import { DEFAULT_RETENTION } from "./retention-policy.js";
import { startRetention } from "./retention.js";
import { acquireInstanceLock } from "./instance-lock.js";
import { startLeaseRenewal } from "./lease-renewal.js";
import { createRecorder } from "./recorder.js";
import { startHttpThread } from "./http-thread.js";
import { createSender } from "./sender.js";
import { inThreadAttemptSender, type AttemptSender } from "./attempt-sender.js";
import { createWebhookCache } from "./webhook-cache.js";
import { createRuleOwnerCache } from "./rule-owner-cache.js";
import { startWindowsConsumer } from "./windows-consumer.js";
import { startWorkers } from "./workers.js";
import { resolveDeliveryGroup } from "./group.js";

export { readDeliveryEnv, DeliveryEnv } from "./env.js";
export { DEFAULT_DELIVERY_GROUP, DELIVERY_GROUP_VARIABLE, deliveryGroup, resolveDeliveryGroup } from "./group.js";
export type { DeliveryGroupSettings } from "./group.js";
export { deliveryOptionsFromEnv } from "./options.js";
export type { DeliveryOptions } from "./options.js";
export { DELIVERY_METRICS } from "./metrics.js";

/** How often the instance lock is checked (and a lost one taken again). */
const LOCK_CHECK_MS = 1000;

export interface Delivery {
  readonly topics: TopicNames;
  readonly counters: Counters;
  /** Base URL of the health/metrics server, when one runs. */
  readonly url?: string;
  /** Stops claiming, lets the attempts in flight end and records them, commits, leaves the group. */
  stop(): Promise<void>;
}

/** The delivery service's composition root: windows topic in; webhooks, deliveries and attempts out. */
export async function startDelivery(o: DeliveryOptions): Promise<Delivery> {
  const log = o.log ?? jsonLogger("delivery", "info");
  const counters = createCounters();
  const topics = topicNames(o.topicPrefix);
  const kafka = createKafka({
    brokers: o.brokers,
    clientId: `runhooks-delivery-${o.instanceId}`,
    security: o.kafkaSecurity,
    logger: (level, message, fields) => log(level, message, fields),
  });
  // The group first, before anything is started: a lookup that fails (group.ts) leaves nothing running.
  const admin = kafka.admin();
  await admin.connect();
  const group = await resolveDeliveryGroup(admin, {
    configured: o.groupId,
    topicPrefix: o.topicPrefix,
    windowsTopic: topics.windows,
  }).catch(async (error: unknown) => {
    await admin.disconnect();
    throw error;
  });
  if (group.kind === "legacy") log("warn", group.warning, { groupId: group.groupId, derived: group.derived });
  const timeoutMs = o.timeoutMs ?? 5000;
  const leaseMs = o.leaseMs ?? 10_000;
  const concurrency = o.concurrency ?? 512;
  const originConcurrency = o.originConcurrency ?? 64;
  let databaseOk = true;
  const onDatabase = (ok: boolean) => {
    if (ok !== databaseOk) log(ok ? "info" : "warn", ok ? "database reachable again" : "database unreachable; pausing");
    databaseOk = ok;
  };

  const telemetry = createTelemetry(o.otel ?? OTEL_OFF, {
    name: "runhooks-delivery",
    version: VERSION,
    instanceId: o.instanceId,
  });
  let lag: ConsumerLag = { observations: () => [] };
  let gauges = { inFlight: () => 0, unrecorded: () => 0, unpublished: () => 0, payloadBytes: () => 0 };
  const histograms = registerDeliveryMetrics(
    telemetry.meter,
    counters,
    {
      attemptsInFlight: () => gauges.inFlight(),
      attemptsUnrecorded: () => gauges.unrecorded(),
      attemptsUnpublished: () => gauges.unpublished(),
      payloadCacheBytes: () => gauges.payloadBytes(),
    },
    { observations: () => lag.observations() },
  );
  const observer = createAttemptObserver(telemetry, histograms);
  const db = connectDatabase({
    url: o.databaseUrl,
    secrets: o.secrets,
    poolSize: o.dbPoolSize ?? 10,
    applicationName: `runhooks-delivery-${o.instanceId}`,
    onError: (error) => log("debug", "database connection error", { error: String(error) }),
  });
  if (o.migrate ?? true) {
    await migrate(db).catch(async (error: unknown) => {
      await Promise.all([db.dispose(), admin.disconnect()]);
      throw error;
    });
  }
  // Before anything is claimed: every claim of this process is covered by its instance lock.
  let onLockBack = () => undefined as void;
  const lock = await acquireInstanceLock({
    databaseUrl: o.databaseUrl,
    instanceId: o.instanceId,
    log,
    checkEveryMs: LOCK_CHECK_MS,
    onHeld: () => onLockBack(),
    ...(o.signal ? { signal: o.signal } : {}),
  }).catch(async (error: unknown) => {
    await Promise.all([db.dispose(), admin.disconnect()]);
    throw error;
  });
  // Java's rule (murmur2 of the key), as kafkajs' default partitioner, without its garbage.
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner });
  await producer.connect();

  const sending = {
    allowPrivate: o.allowPrivate ?? false,
    allowCidrs: o.allowCidrs ?? [],
    deadlineMs: timeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? 3000,
    connectionsPerOrigin: originConcurrency,
  };
  let onSenderBack = () => undefined as void;
  const thread =
    (o.httpThread ?? true) ? await startHttpThread({ ...sending, log, onRestarted: () => onSenderBack() }) : undefined;
  const sender: AttemptSender =
    thread ?? inThreadAttemptSender(createSender({ ...sending, policy: createAddressPolicy(sending) }));
  const webhooks = createWebhookCache(db);
  const payloads = createPayloadCache(64 * 1024 * 1024);
  const publisher = createPublisher({ producer, topic: topics.attempts, counters, timeoutMs: 2000 });
  const disableAfter = o.disableAfter ?? { failures: 20, minSpanMs: 86_400_000 };
  const health = createHealthKeeper({
    db,
    // 0 failures: never disabled.
    threshold: disableAfter.failures === 0 ? { failures: Number.POSITIVE_INFINITY, minSpanMs: 0 } : disableAfter,
    events: createEventSink({ producer, topic: topics.events, log }),
    log,
  });
  const recorder = createRecorder({
    db,
    publisher,
    log,
    counters,
    maxBatch: 1000,
    maxDelayMs: 20,
    onDatabase,
    health,
  });
  const workers = startWorkers({
    db,
    sender,
    recorder,
    webhooks,
    payloads,
    policy: o.policy ?? LANGSMITH_POLICY,
    concurrency,
    originConcurrency,
    leaseMs,
    pollMs: o.pollMs ?? 100,
    instanceId: o.instanceId,
    log,
    counters,
    onDatabase,
    observer,
    // Nothing is claimed or started while the instance lock is not held: other processes take this
    // one's claims then.
    canSend: () => (thread?.running() ?? true) && lock.held(),
  });
  onSenderBack = () => workers.wake();
  onLockBack = () => workers.wake();
  const renewal = startLeaseRenewal({
    db,
    instanceId: o.instanceId,
    leaseMs,
    held: (minAgeMs) => [...workers.holding(minAgeMs), ...recorder.holding()],
    log,
  });
  const reapEveryMs = Math.min(1000, Math.floor(leaseMs / 4));
  const retention = startRetention({
    db,
    settings: o.retention?.settings ?? DEFAULT_RETENTION,
    everyMs: o.retention?.everyMs ?? 600_000,
    log,
  });
  const housekeeping = startHousekeeping({
    db,
    publisher,
    instanceId: o.instanceId,
    reapEveryMs,
    // Free on two checks in a row: a process whose lock's connection dropped holds it again within a
    // retake period (250 ms), and keeps its claims.
    deadAfterMs: reapEveryMs / 2,
    sweepEveryMs: Math.max(250, Math.min(5000, Math.floor(leaseMs / 4))),
    stragglerAgeMs: Math.max(10_000, timeoutMs * 2),
    log,
    counters,
    onReaped: () => workers.wake(),
    renew: () => renewal.renew(),
  });
  const consumer = await startWindowsConsumer({
    workers,
    leaseMs,
    instanceId: o.instanceId,
    kafka,
    admin,
    topic: topics.windows,
    runsTopic: topics.runs,
    owners: createRuleOwnerCache(db),
    producer,
    deadLetterTopic: topics.windowsDlq,
    groupId: group.groupId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 6000,
    db,
    webhooks,
    payloads,
    log,
    counters,
    onStored: () => workers.wake(),
    onDatabase,
    observer,
    observeConsumer: (c) => (lag = trackConsumerLag(c)),
  });
  gauges = {
    inFlight: () => workers.inFlight(),
    unrecorded: () => recorder.backlog,
    unpublished: () => recorder.unpublished,
    payloadBytes: () => payloads.bytes,
  };
  const server = o.http
    ? await startHttp(o.http.host, o.http.port, {
        health: () =>
          consumer.problem() ??
          thread?.problem() ??
          lock.problem() ??
          (databaseOk ? undefined : "the database is unreachable"),
        metrics: () => telemetry.prometheus(),
      })
    : undefined;
  log("info", "delivery started", { groupId: consumer.groupId, topic: topics.windows, http: server?.url });

  return {
    topics,
    counters,
    ...(server ? { url: server.url } : {}),
    async stop() {
      // No new windows, no new claims; what is in flight ends by its deadline and is recorded.
      await consumer.stop();
      await workers.stop();
      await recorder.flush(Math.max(10_000, timeoutMs * 2));
      await housekeeping.stop();
      await retention.stop();
      await renewal.stop();
      // Nothing of this process is in flight any more: what it still claims (unrecorded) is anyone's.
      await lock.close();
      await sender.close();
      await Promise.all([producer.disconnect(), admin.disconnect()]);
      await db.dispose();
      await new Promise((resolve) => (server ? server.server.close(resolve) : resolve(undefined)));
      // Last: exports the spans and metrics of everything above.
      await telemetry
        .shutdown()
        .catch((error: unknown) => log("warn", "could not export the last telemetry", { error: String(error) }));
      log("info", "delivery stopped", { counters });
    },
  };
}
// What a backfill (services/backfill) stores its windows' deliveries with: the same ids and targets.
export { deliveryId } from "./delivery-id.js";
export { toTarget } from "./target.js";
// The one decoder of `runhooks.windows` (parts, bundles, watermarks): tests and benches read the topic with it.
export { decodeWindowsMessage, windowPartJson } from "./part-message.js";
export type { BundledPart, DecodedWindowsMessage } from "./part-message.js";
