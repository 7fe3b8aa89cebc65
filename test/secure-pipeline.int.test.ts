import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiOptionsFromEnv, readApiEnv, startApi, type RunningApi } from "@runhooks/api";
import { WebhookPayload } from "@runhooks/contracts";
import { generateSecretKey } from "@runhooks/db";
import { deliveryOptionsFromEnv, readDeliveryEnv, startDelivery, type Delivery } from "@runhooks/delivery";
import {
  evaluatorOptionsFromEnv,
  readEvaluatorEnv,
  resolveEvaluatorGroup,
  startEvaluator,
  type Evaluator,
} from "@runhooks/evaluator";
import { aclNamesOf, applyAcls, prepareTopics, readInfraEnv, runhooksAcls } from "@runhooks/infra";
import { ingestOptionsFromEnv, readIngestEnv, startIngest, type Ingest } from "@runhooks/ingest";
import { GroupLookupError, createKafka, topicNames, type KafkaSecurity } from "@runhooks/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeRun } from "../services/delivery/test/harness.js";
import { reply, startReceiver, type Receiver } from "../services/delivery/test/receiver.js";
import { completeRun } from "../services/ingest/test/run-fixture.js";
import { startSecureBroker, type SecureBroker } from "./support/secure-broker.js";
import { createTestDatabase, type TestDatabase } from "./support/stack.js";
import { BROKER_NAME } from "./support/test-pki.js";

/**
 * The whole pipeline over SASL_SSL with ACLs, on a broker of its own: each service configured from its
 * environment as an operator would (credentials, CA and client certificate in files), each as its own
 * principal holding only the ACLs `infra acls` grants. A run written by the producer principal and one
 * sent to ingest both reach a real receiver; no service is refused anything, and no secret is logged.
 * No group variable is set under the prefix `acme`: the evaluator and delivery look up the default
 * prefix's groups at start, as `infra acls` grants them.
 */

const PREFIX = "acme";
const topics = topicNames(PREFIX);
const infraEnv = readInfraEnv({
  RUNHOOKS_TOPIC_PREFIX: PREFIX,
  RUNHOOKS_RUNS_PARTITIONS: "2",
  RUNHOOKS_WINDOWS_PARTITIONS: "2",
});

describe("the pipeline over SASL_SSL, each service its own principal", () => {
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  /** Every line the services logged (kafkajs' included), as JSON. */
  const logs: string[] = [];
  const logTo =
    (service: string) =>
    (level: string, message: string, fields: Record<string, unknown> = {}) =>
      void logs.push(JSON.stringify({ service, level, message, ...fields }));
  let broker: SecureBroker;
  let secrets: string;
  let database: TestDatabase;
  let receiver: Receiver;
  let api: RunningApi;
  let ingest: Ingest;
  let evaluator: Evaluator;
  let delivery: Delivery;
  let clientKey: string | undefined;

  async function secretFile(name: string, content: string): Promise<string> {
    const path = join(secrets, name);
    await writeFile(path, `${content}\n`, { mode: 0o600 });
    return path;
  }

  /** A service's environment: the cluster over TLS with the test CA, as `user` with its password file. */
  async function saslEnv(user: string, mechanism: string): Promise<Record<string, string>> {
    return {
      KAFKA_BROKERS: broker.brokers.join(","),
      DATABASE_URL: database.url,
      RUNHOOKS_TOPIC_PREFIX: PREFIX,
      RUNHOOKS_INSTANCE_ID: `secure-${user}`,
      RUNHOOKS_DB_POOL_SIZE: "4",
      KAFKA_TLS_CA_FILE: await secretFile("ca.pem", broker.pki.ca),
      KAFKA_TLS_SERVERNAME: BROKER_NAME,
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD_FILE: await secretFile(`${user}.password`, broker.password(user)),
    };
  }

  async function call(url: string, path: string, key: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(answer)).toBeLessThan(300);
    return answer;
  }

  beforeAll(async () => {
    broker = await startSecureBroker([
      { name: "runhooks-api", mechanism: "scram-sha-512" },
      { name: "runhooks-ingest", mechanism: "scram-sha-256" },
      { name: "runhooks-evaluator", mechanism: "scram-sha-512" },
      { name: "runhooks-producer", mechanism: "plain" },
    ]);
    const admin = createKafka({
      brokers: broker.brokers,
      security: broker.admin,
      clientId: "secure-setup",
      logger: () => undefined,
    }).admin();
    await admin.connect();
    try {
      await prepareTopics(admin, infraEnv);
      await applyAcls(admin, runhooksAcls(aclNamesOf(infraEnv)));
    } finally {
      await admin.disconnect();
    }
    secrets = await mkdtemp(join(tmpdir(), "runhooks-secrets-"));
    const secretsKey = generateSecretKey();
    database = await createTestDatabase("secure");
    receiver = await startReceiver(reply(200, "ok"));

    const apiEnv = readApiEnv({
      ...(await saslEnv("runhooks-api", "SCRAM-SHA-512")),
      RUNHOOKS_API_PORT: "0",
      RUNHOOKS_ADMIN_KEY: adminKey,
      RUNHOOKS_SECRETS_KEY_FILE: await secretFile("secrets-key", `${secretsKey}\n`),
    });
    const stream = { write: (line: string) => void logs.push(line) };
    api = await startApi({
      ...apiOptionsFromEnv(apiEnv, { level: "info", stream }),
      relay: { pollIntervalMs: 100, retryDelayMs: 200 },
    });
    const ingestEnv = readIngestEnv({
      ...(await saslEnv("runhooks-ingest", "scram-sha-256")),
      RUNHOOKS_INGEST_PORT: "0",
    });
    ingest = await startIngest({ ...ingestOptionsFromEnv(ingestEnv, logTo("ingest")), migrate: false });
    const evaluatorEnv = readEvaluatorEnv({
      ...(await saslEnv("runhooks-evaluator", "scram-sha-512")),
      RUNHOOKS_EVALUATOR_PORT: "-1",
      RUNHOOKS_TICK_INTERVAL_MS: "100",
      RUNHOOKS_SESSION_TIMEOUT_MS: "6000",
    });
    evaluator = await startEvaluator(evaluatorOptionsFromEnv(evaluatorEnv, logTo("evaluator")));
    // Delivery proves itself with a client certificate (CN=runhooks-delivery) on the mutual-TLS listener.
    const certificate = (await broker.certificate("runhooks-delivery")).tls!;
    clientKey = certificate.key;
    const deliveryEnv = readDeliveryEnv({
      KAFKA_BROKERS: broker.mtlsBrokers.join(","),
      DATABASE_URL: database.url,
      RUNHOOKS_TOPIC_PREFIX: PREFIX,
      RUNHOOKS_INSTANCE_ID: "secure-delivery",
      RUNHOOKS_DB_POOL_SIZE: "4",
      KAFKA_TLS_CA_FILE: await secretFile("ca.pem", broker.pki.ca),
      KAFKA_TLS_SERVERNAME: BROKER_NAME,
      KAFKA_TLS_CERT_FILE: await secretFile("delivery.pem", certificate.cert!),
      KAFKA_TLS_KEY_FILE: await secretFile("delivery.key", certificate.key!),
      RUNHOOKS_DELIVERY_PORT: "-1",
      RUNHOOKS_SECRETS_KEY: secretsKey,
      RUNHOOKS_DELIVERY_ALLOW_CIDRS: "127.0.0.1/32",
      RUNHOOKS_DELIVERY_POLL_MS: "50",
      RUNHOOKS_SESSION_TIMEOUT_MS: "6000",
    });
    delivery = await startDelivery({ ...deliveryOptionsFromEnv(deliveryEnv, logTo("delivery")), migrate: false });
  }, 240_000);

  afterAll(async () => {
    await delivery?.stop();
    await evaluator?.stop();
    await ingest?.stop();
    await api?.close();
    await receiver?.close();
    await database?.drop();
    await broker?.stop();
    if (secrets !== undefined) await rm(secrets, { recursive: true, force: true });
  });

  it("delivers a run from the producer principal and one sent to ingest", { timeout: 120_000 }, async () => {
    const created = (await call(api.url, "/admin/tenants", adminKey, { name: "secure" })) as {
      tenant: { id: string };
      api_key: { key: string };
    };
    const tenant = { id: created.tenant.id, key: created.api_key.key };
    const rule = (await call(api.url, "/rules", tenant.key, {
      display_name: "secure pipeline",
      filter: { "==": [{ var: "metadata.batch" }, "secure"] },
      sampling_rate: 1,
      window: { seconds: 1, max_runs: 100 },
      webhooks: [{ url: `${receiver.url}/secure` }],
    })) as { rule: { id: string } };
    // Runs are judged by the rule versions in force at their log time: wait until the relay published it.
    await eventually("the rule in force", async () => {
      const r = await fetch(`${api.url}/rules/${rule.rule.id}`, { headers: { "x-api-key": tenant.key } });
      return ((await r.json()) as { effective_from?: string | null }).effective_from != null;
    });

    const direct = makeRun(tenant.id, { extra: { metadata: { batch: "secure" } } });
    const security: KafkaSecurity = broker.sasl("runhooks-producer");
    const producer = createKafka({ brokers: broker.brokers, security, clientId: "acme-sdk" }).producer();
    await producer.connect();
    await producer.send({
      topic: topics.runs,
      acks: -1,
      messages: [{ key: direct.id, value: JSON.stringify(direct) }],
    });
    await producer.disconnect();
    const viaIngest = completeRun({ extra: { metadata: { batch: "secure" } } });
    await call(ingest.url, "/runs/batch", tenant.key, { post: [viaIngest] });

    const delivered = () =>
      receiver.received.flatMap((r) => WebhookPayload.parse(JSON.parse(r.body.toString())).runs.map((run) => run.id));
    await eventually(
      "both runs at the receiver",
      () => [direct.id, viaIngest["id"]].every((id) => delivered().includes(id as string)),
      90_000,
    );
    expect(receiver.received.every((r) => r.url === "/secure")).toBe(true);

    // No service was refused anything its code does, and no secret reached a log line.
    const text = logs.join("\n");
    for (const started of ["evaluator started", "delivery started"]) expect(text).toContain(started);
    expect(text).not.toMatch(/AUTHORIZATION_FAILED|authorization failed|SASL.*failed/i);
    const needles = ["runhooks-api", "runhooks-ingest", "runhooks-evaluator", "runhooks-producer"].map(broker.password);
    for (const needle of [...needles, clientKey!.split("\n")[1]!]) expect(text.includes(needle)).toBe(false);
  });

  it("names the group and what to do when a principal may not look it up", { timeout: 60_000 }, async () => {
    // The producer principal holds no group ACL at all.
    const admin = createKafka({
      brokers: broker.brokers,
      security: broker.sasl("runhooks-producer"),
      clientId: "acme-lookup",
      logger: () => undefined,
    }).admin();
    await admin.connect();
    try {
      const lookup = resolveEvaluatorGroup(admin, {
        configured: undefined,
        topicPrefix: PREFIX,
        runsTopic: topics.runs,
      });
      await expect(lookup).rejects.toBeInstanceOf(GroupLookupError);
      await expect(lookup).rejects.toThrow(
        /consumer group (acme|runhooks)-evaluator .*grant Describe on (acme|runhooks)-evaluator .*RUNHOOKS_EVALUATOR_GROUP/,
      );
    } finally {
      await admin.disconnect();
    }
  });
});
