import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultStateDir, readInfraEnv, startKafka, stopKafka } from "@runhooks/infra";
import type { KafkaSecurity, SaslMechanism } from "@runhooks/kafka";
import { freePort } from "./net.js";
import { BROKER_NAME, createTestPki, type TestPki } from "./test-pki.js";

/** A user of the broker: SCRAM users are created when the storage is formatted, PLAIN ones are in its JAAS config. */
export interface SecureUser {
  readonly name: string;
  readonly mechanism: SaslMechanism;
}

export interface SecureBroker {
  /** The SASL_SSL listener. */
  readonly brokers: string[];
  /** The SSL listener that requires a client certificate; its principal is the certificate's CN. */
  readonly mtlsBrokers: string[];
  readonly pki: TestPki;
  /** The super user (PLAIN, also the broker's own inter-broker and controller principal). */
  readonly admin: KafkaSecurity;
  readonly logFile: string;
  readonly password: (user: string) => string;
  /** SASL_SSL as `user`, with its password unless another is given; trusting the test CA. */
  sasl(user: string, password?: string): KafkaSecurity;
  /** TLS with a client certificate issued to CN=`user`, for `mtlsBrokers`. */
  certificate(user: string): Promise<KafkaSecurity>;
  stop(): Promise<void>;
}

const ADMIN = "admin";
const jaas = (module: string, options: Record<string, string>) =>
  `${module} required ${Object.entries(options)
    .map(([k, v]) => `${k}="${v}"`)
    .join(" ")};`;

/**
 * A second broker of the project's own Kafka distribution, apart from the shared one (its own ports
 * and temp dir): a SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), a mutual-TLS listener,
 * the KRaft StandardAuthorizer with `admin` as the only super user, and nothing allowed without an ACL.
 * Ready once the admin can describe the cluster over SASL_SSL (infra's start-up probe), not after a delay.
 */
export async function startSecureBroker(users: readonly SecureUser[]): Promise<SecureBroker> {
  const dir = await mkdtemp(join(tmpdir(), "runhooks-secure-kafka-"));
  const passwords = new Map([ADMIN, ...users.map((u) => u.name)].map((n) => [n, randomBytes(12).toString("hex")]));
  const password = (user: string) => passwords.get(user) ?? "";
  try {
    const pki = await createTestPki(dir, randomBytes(12).toString("hex"));
    const [port, controllerPort, mtlsPort] = [await freePort(), await freePort(), await freePort()];
    const plain = { username: ADMIN, password: password(ADMIN) };
    const plainUsers = Object.fromEntries(
      [ADMIN, ...users.filter((u) => u.mechanism === "plain").map((u) => u.name)].map((n) => [
        `user_${n}`,
        password(n),
      ]),
    );
    const PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule";
    const SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule";
    // Only where the distribution is cached and which version: this broker is never the configured one.
    const { RUNHOOKS_STATE_DIR, RUNHOOKS_KAFKA_CACHE_DIR, RUNHOOKS_KAFKA_VERSION } = process.env;
    const infraEnv = readInfraEnv({ RUNHOOKS_STATE_DIR, RUNHOOKS_KAFKA_CACHE_DIR, RUNHOOKS_KAFKA_VERSION });
    const cacheDir =
      infraEnv.RUNHOOKS_KAFKA_CACHE_DIR ?? join(infraEnv.RUNHOOKS_STATE_DIR ?? defaultStateDir(), "kafka", "dist");
    const admin: KafkaSecurity = {
      tls: { ca: pki.ca, servername: BROKER_NAME },
      sasl: { mechanism: "plain", ...plain },
    };
    const broker = await startKafka({
      dir: join(dir, "kafka"),
      version: infraEnv.RUNHOOKS_KAFKA_VERSION,
      port,
      controllerPort,
      heap: "384m",
      cacheDir,
      report: () => undefined,
      probeSecurity: admin,
      properties: {
        listeners: `SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort},MTLS://127.0.0.1:${mtlsPort}`,
        "advertised.listeners": `SASL_SSL://127.0.0.1:${port},MTLS://127.0.0.1:${mtlsPort}`,
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT,MTLS:SSL",
        "inter.broker.listener.name": "SASL_SSL",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": jaas(PLAIN, {
          ...plain,
          [`user_${ADMIN}`]: password(ADMIN),
        }),
        "listener.name.sasl_ssl.plain.sasl.jaas.config": jaas(PLAIN, { ...plain, ...plainUsers }),
        "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": `${SCRAM} required;`,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": `${SCRAM} required;`,
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": pki.keystore,
        "ssl.keystore.password": pki.storePassword,
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": pki.truststore,
        "ssl.truststore.password": pki.storePassword,
        "listener.name.mtls.ssl.client.auth": "required",
        // A certificate's principal is its CN: CN=runhooks-delivery is User:runhooks-delivery.
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]*)$/$1/,DEFAULT",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": `User:${ADMIN}`,
        "allow.everyone.if.no.acl.found": "false",
        // One partition each, not 50: less for a small machine to create when the first group or
        // transaction appears.
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.num.partitions": "1",
      },
      formatArgs: users
        .filter((u) => u.mechanism !== "plain")
        .flatMap((u) => ["--add-scram", `${u.mechanism.toUpperCase()}=[name=${u.name},password=${password(u.name)}]`]),
    });
    const mechanismOf = (user: string) => (user === ADMIN ? "plain" : users.find((u) => u.name === user)?.mechanism);
    return {
      brokers: broker.brokers,
      mtlsBrokers: [`127.0.0.1:${mtlsPort}`],
      pki,
      admin,
      logFile: broker.logFile,
      password,
      sasl: (user, pw) => ({
        tls: { ca: pki.ca, servername: BROKER_NAME },
        sasl: { mechanism: mechanismOf(user) ?? "plain", username: user, password: pw ?? password(user) },
      }),
      async certificate(user) {
        return { tls: { ca: pki.ca, servername: BROKER_NAME, ...(await pki.clientCertificate(user)) } };
      },
      async stop() {
        await stopKafka(join(dir, "kafka"));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopKafka(join(dir, "kafka")).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
