import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@runhooks/cli";
import { aclNamesOf, applyAcls, prepareTopics, readInfraEnv, runhooksAcls } from "@runhooks/infra";
import { createKafka, topicNames, type KafkaSecurity } from "@runhooks/kafka";
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRun } from "../services/delivery/test/harness.js";
import { startSecureBroker, type SecureBroker } from "./support/secure-broker.js";

/**
 * Kafka over SASL_SSL with the KRaft authorizer, on a broker of its own: who may connect (each SASL
 * mechanism, a client certificate) and who may not (PLAINTEXT, a wrong password, an untrusted or
 * misnamed broker, a stranger's certificate), and that a principal holding the ACLs `infra acls`
 * grants can do what its service does and nothing else.
 */

const PREFIX = "acme";
const topics = topicNames(PREFIX);
const env = readInfraEnv({
  RUNHOOKS_TOPIC_PREFIX: PREFIX,
  RUNHOOKS_RUNS_PARTITIONS: "2",
  RUNHOOKS_WINDOWS_PARTITIONS: "2",
});

describe("Kafka over SASL_SSL with ACLs", () => {
  let broker: SecureBroker;
  /** Where kafkajs' lines go (debug included); the log test collects them. */
  let logs: string[] = [];

  const client = (security: KafkaSecurity, brokers = broker.brokers): Kafka =>
    createKafka({
      brokers,
      clientId: "security-test",
      security,
      logLevel: "debug",
      logger: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })),
      connectionTimeoutMs: 5000,
      retry: { retries: 0, initialRetryTimeMs: 100, maxRetryTimeMs: 100 },
    });

  /** What connecting and reading the runs topic's metadata comes to: "ok", or the error's message. */
  async function connect(security: KafkaSecurity, brokers?: string[]): Promise<string> {
    const admin = client(security, brokers).admin();
    try {
      await admin.connect();
      await admin.fetchTopicMetadata({ topics: [topics.runs] });
      return "ok";
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** What writing one record to `topic` comes to: "ok", or the error's message. */
  async function write(security: KafkaSecurity, topic: string): Promise<string> {
    const producer = client(security).producer({ allowAutoTopicCreation: false });
    try {
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: "{}" }] });
      return "ok";
    } catch (error) {
      return (error as Error).message;
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  }

  beforeAll(async () => {
    broker = await startSecureBroker([
      { name: "runhooks-api", mechanism: "scram-sha-512" },
      { name: "runhooks-ingest", mechanism: "scram-sha-256" },
      { name: "runhooks-evaluator", mechanism: "scram-sha-512" },
      { name: "runhooks-delivery", mechanism: "scram-sha-256" },
      { name: "runhooks-producer", mechanism: "plain" },
    ]);
    // What an operator does once, as the admin: `infra up` (topics), then `infra acls --apply`.
    const admin = client(broker.admin).admin();
    await admin.connect();
    try {
      await prepareTopics(admin, env);
      await applyAcls(admin, runhooksAcls(aclNamesOf(env)));
    } finally {
      await admin.disconnect();
    }
  }, 180_000);

  afterAll(async () => {
    await broker?.stop();
  });

  it("lets in each SASL mechanism and a client certificate, as their principals", async () => {
    expect(await connect(broker.sasl("runhooks-producer"))).toBe("ok"); // PLAIN
    expect(await connect(broker.sasl("runhooks-ingest"))).toBe("ok"); // SCRAM-SHA-256
    expect(await connect(broker.sasl("runhooks-evaluator"))).toBe("ok"); // SCRAM-SHA-512
    // Mutual TLS: CN=runhooks-delivery is User:runhooks-delivery, who may describe the runs topic.
    expect(await connect(await broker.certificate("runhooks-delivery"), broker.mtlsBrokers)).toBe("ok");
    // CN=nobody authenticates too, but holds no ACL: the runs topic is not even described to it.
    expect(await connect(await broker.certificate("nobody"), broker.mtlsBrokers)).toMatch(/authoriz/i);
  });

  it("refuses PLAINTEXT, wrong passwords, an untrusted or misnamed broker and a stranger's certificate", async () => {
    const producer = broker.sasl("runhooks-producer");
    const stranger = await broker.pki.strangerCertificate();
    const cases: [string, KafkaSecurity, string[] | undefined, RegExp][] = [
      ["PLAINTEXT", {}, undefined, /Closed connection|Connection timeout/],
      [
        "a wrong password (PLAIN)",
        broker.sasl("runhooks-producer", "not-the-password"),
        undefined,
        /SASL PLAIN authentication failed/,
      ],
      [
        "a wrong password (SCRAM)",
        broker.sasl("runhooks-evaluator", "not-the-password"),
        undefined,
        /SASL SCRAM SHA512 authentication failed/,
      ],
      ["an unknown user", broker.sasl("mallory", "guess"), undefined, /authentication failed/],
      [
        "Node's roots only",
        { ...producer, tls: { servername: "kafka.test" } },
        undefined,
        /self[- ]signed|unable to (get|verify)/i,
      ],
      [
        "another server name",
        { ...producer, tls: { ca: broker.pki.ca, servername: "kafka.other" } },
        undefined,
        /altnames|Hostname/i,
      ],
      [
        "no client certificate",
        { tls: { ca: broker.pki.ca, servername: "kafka.test" } },
        broker.mtlsBrokers,
        /certificate|alert|Closed/i,
      ],
      [
        "a stranger's certificate",
        { tls: { ca: broker.pki.ca, servername: "kafka.test", cert: stranger.cert, key: stranger.key } },
        broker.mtlsBrokers,
        /certificate|alert|Closed/i,
      ],
    ];
    for (const [name, security, brokers, refusal] of cases) {
      const outcome = await connect(security, brokers);
      expect(outcome, name).not.toBe("ok");
      expect(outcome, name).toMatch(refusal);
    }
  });

  it("lets the producer principal write runs and nothing else", async () => {
    const producer = broker.sasl("runhooks-producer");
    expect(await write(producer, topics.runs)).toBe("ok");
    for (const topic of [
      topics.windows,
      topics.windowsDlq,
      topics.rules,
      topics.attempts,
      topics.runsDlq,
      topics.ruleErrors,
    ]) {
      expect(await write(producer, topic), topic).toMatch(/Topic authorization failed/);
    }
  });

  it.each([
    ["runhooks-ingest", topics.rules],
    ["runhooks-ingest", topics.windows],
    ["runhooks-evaluator", topics.attempts],
    ["runhooks-delivery", topics.windows],
    ["runhooks-delivery", topics.runs],
    ["runhooks-api", topics.runs],
  ])("does not let %s write %s", async (user, topic) => {
    expect(await write(broker.sasl(user), topic)).toMatch(/Topic authorization failed/);
  });

  it("runs `runhooks runs produce` as the producer principal, and says when Kafka refuses it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runhooks-cli-sasl-"));
    try {
      const run = makeRun(randomUUID());
      await writeFile(join(dir, "runs.jsonl"), `${JSON.stringify(run)}\n`);
      await writeFile(join(dir, "ca.pem"), broker.pki.ca);
      await writeFile(join(dir, "password"), `${broker.password("runhooks-producer")}\n`);
      const cli = async (password: Record<string, string>) => {
        let out = "";
        let err = "";
        const env = {
          KAFKA_BROKERS: broker.brokers.join(","),
          RUNHOOKS_TOPIC_PREFIX: PREFIX,
          KAFKA_TLS_CA_FILE: join(dir, "ca.pem"),
          KAFKA_TLS_SERVERNAME: "kafka.test",
          KAFKA_SASL_MECHANISM: "PLAIN",
          KAFKA_SASL_USERNAME: "runhooks-producer",
          ...password,
        };
        const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), env, cwd: dir };
        const code = await runCli(["runs", "produce", "runs.jsonl"], { ...io, tty: { out: false, err: false } });
        return { code, out, err };
      };
      const produced = await cli({ KAFKA_SASL_PASSWORD_FILE: join(dir, "password") });
      expect(produced.out).toContain(`produced 1 runs to ${topics.runs}`);
      expect(produced.code).toBe(0);
      const refused = await cli({ KAFKA_SASL_PASSWORD: "not-the-password" });
      expect(refused.code).toBe(1);
      expect(refused.err).toContain("refused the SASL credentials: check KAFKA_SASL_MECHANISM");
      expect(refused.err).not.toContain("not-the-password");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("never logs a password, not even at debug level or when it is refused", async () => {
    logs = [];
    expect(await connect(broker.admin)).toBe("ok");
    expect(await connect(broker.sasl("runhooks-ingest"))).toBe("ok");
    expect(await write(broker.sasl("runhooks-producer"), topics.runs)).toBe("ok");
    expect(await write(broker.sasl("runhooks-producer"), topics.rules)).not.toBe("ok");
    const refused = await connect(broker.sasl("runhooks-evaluator", "not-the-password"));
    expect(refused).toMatch(/authentication failed/);
    expect(logs.length).toBeGreaterThan(20);
    const text = `${logs.join("\n")}\n${refused}`;
    expect(text).toMatch(/SASL/);
    for (const user of ["admin", "runhooks-producer", "runhooks-evaluator", "runhooks-ingest"]) {
      expect(text.includes(broker.password(user)), user).toBe(false);
    }
    expect(text).not.toContain("not-the-password");
  });
});
