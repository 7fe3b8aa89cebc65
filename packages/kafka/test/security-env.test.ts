import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KafkaConfigError, kafkaSecurityFromEnv, kafkaSecurityOf, type KafkaSecurityEnv } from "@runhooks/kafka";

const CA = "-----BEGIN CERTIFICATE-----\nMIIca\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIcert\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIkey\n-----END PRIVATE KEY-----\n";
const PASSWORD = "pw-Sentinel-7f3a";

/** Files the cases name; any other path is missing. */
const files: Record<string, string> = {
  "/run/secrets/ca.pem": CA,
  "/run/secrets/client.pem": CERT,
  "/run/secrets/client.key": KEY,
  "/run/secrets/password": `${PASSWORD}\n`,
  "/run/secrets/user": "runhooks-evaluator\r\n",
  "/run/secrets/empty": "\n",
  "/run/secrets/not-pem": "hello",
};
const read = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: "ENOENT" });
  return text;
};

const ok: [string, KafkaSecurityEnv, unknown][] = [
  ["nothing set: PLAINTEXT", {}, undefined],
  ["empty values are unset", { KAFKA_TLS: "", KAFKA_SASL_MECHANISM: " " }, undefined],
  ["KAFKA_TLS=false alone", { KAFKA_TLS: "false" }, undefined],
  ["TLS with Node's roots", { KAFKA_TLS: "true" }, { tls: {} }],
  ["TLS as 1", { KAFKA_TLS: "1" }, { tls: {} }],
  ["a CA turns TLS on", { KAFKA_TLS_CA: CA }, { tls: { ca: CA } }],
  ["a CA from a file", { KAFKA_TLS_CA_FILE: "/run/secrets/ca.pem" }, { tls: { ca: CA.trimEnd() } }],
  ["a server name turns TLS on", { KAFKA_TLS_SERVERNAME: "kafka.internal" }, { tls: { servername: "kafka.internal" } }],
  [
    "mutual TLS from files",
    { KAFKA_TLS_CERT_FILE: "/run/secrets/client.pem", KAFKA_TLS_KEY_FILE: "/run/secrets/client.key" },
    { tls: { cert: CERT.trimEnd(), key: KEY.trimEnd() } },
  ],
  [
    "an encrypted key and its passphrase",
    { KAFKA_TLS_CERT: CERT, KAFKA_TLS_KEY: KEY, KAFKA_TLS_KEY_PASSPHRASE: "pp" },
    { tls: { cert: CERT, key: KEY, passphrase: "pp" } },
  ],
  [
    "SCRAM over TLS, the password from a file without its line break",
    {
      KAFKA_TLS: "true",
      KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      KAFKA_SASL_USERNAME: "runhooks-evaluator",
      KAFKA_SASL_PASSWORD_FILE: "/run/secrets/password",
    },
    { tls: {}, sasl: { mechanism: "scram-sha-512", username: "runhooks-evaluator", password: PASSWORD } },
  ],
  [
    "PLAIN (Confluent Cloud's API key and secret), the user from a file",
    {
      KAFKA_TLS: "true",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME_FILE: "/run/secrets/user",
      KAFKA_SASL_PASSWORD: PASSWORD,
    },
    { tls: {}, sasl: { mechanism: "plain", username: "runhooks-evaluator", password: PASSWORD } },
  ],
  [
    "SCRAM-SHA-256 without TLS (SASL_PLAINTEXT)",
    { KAFKA_SASL_MECHANISM: "scram-sha-256", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: PASSWORD },
    { sasl: { mechanism: "scram-sha-256", username: "u", password: PASSWORD } },
  ],
];

const refused: [string, KafkaSecurityEnv, string[]][] = [
  ["an unknown TLS flag", { KAFKA_TLS: "yes" }, ["KAFKA_TLS: must be true or false"]],
  ["TLS off with TLS settings", { KAFKA_TLS: "false", KAFKA_TLS_CA: CA }, ["KAFKA_TLS: is false while"]],
  ["a value and its file", { KAFKA_TLS_CA: CA, KAFKA_TLS_CA_FILE: "/run/secrets/ca.pem" }, ["KAFKA_TLS_CA_FILE: set"]],
  ["a missing file", { KAFKA_TLS_CA_FILE: "/nope/ca.pem" }, ["KAFKA_TLS_CA_FILE: cannot read /nope/ca.pem (ENOENT)"]],
  [
    "an empty file",
    { KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD_FILE: "/run/secrets/empty" },
    ["KAFKA_SASL_PASSWORD_FILE: /run/secrets/empty is empty"],
  ],
  [
    "a CA that is not PEM",
    { KAFKA_TLS_CA_FILE: "/run/secrets/not-pem" },
    ["KAFKA_TLS_CA_FILE: expected one or more certificates in PEM form"],
  ],
  ["a key that is not a key", { KAFKA_TLS_CERT: CERT, KAFKA_TLS_KEY: CERT }, ["KAFKA_TLS_KEY: expected a private key"]],
  [
    "a certificate without its key",
    { KAFKA_TLS_CERT: CERT },
    ["KAFKA_TLS_CERT: a client certificate needs its private key"],
  ],
  ["a key without its certificate", { KAFKA_TLS_KEY: KEY }, ["KAFKA_TLS_KEY: a client certificate needs"]],
  [
    "a passphrase without a key",
    { KAFKA_TLS: "true", KAFKA_TLS_KEY_PASSPHRASE: "pp" },
    ["KAFKA_TLS_KEY_PASSPHRASE: is set without"],
  ],
  [
    "credentials without a mechanism",
    { KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: PASSWORD },
    ["KAFKA_SASL_MECHANISM: is needed"],
  ],
  [
    "an unknown mechanism",
    { KAFKA_SASL_MECHANISM: "gssapi", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: PASSWORD },
    ["KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512"],
  ],
  [
    "a mechanism without credentials",
    { KAFKA_SASL_MECHANISM: "plain" },
    ["KAFKA_SASL_USERNAME: is needed", "KAFKA_SASL_PASSWORD: is needed"],
  ],
];

describe("Kafka security from the environment", () => {
  it.each(ok)("%s", (_name, env, expected) => {
    expect(kafkaSecurityFromEnv(env, read)).toEqual({ ok: true, security: expected });
  });

  it.each(refused)("refuses %s", (_name, env, expected) => {
    const result = kafkaSecurityFromEnv(env, read);
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.issues.map((i) => `${i.variable}: ${i.message}`);
    expect(lines).toHaveLength(expected.length);
    expected.forEach((start, i) => expect(lines[i]).toContain(start));
    // An issue names the variable and the file, never what the variable holds.
    for (const line of lines)
      for (const secret of [PASSWORD, "MIIca", "MIIkey", "MIIcert"]) expect(line).not.toContain(secret);
  });

  it("throws a configuration error naming the variables, not their values", () => {
    const env = { KAFKA_SASL_MECHANISM: "kerberos", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: PASSWORD };
    let caught: unknown;
    try {
      kafkaSecurityOf(env, read);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KafkaConfigError);
    expect(caught).toMatchObject({ code: "invalid_kafka_config", retriable: false });
    expect(String(caught)).toMatch(/KAFKA_SASL_MECHANISM: must be one of/);
    expect(String(caught)).not.toContain(PASSWORD);
  });

  it("reads real files by default", () => {
    const dir = mkdtempSync(join(tmpdir(), "kafka-env-"));
    try {
      writeFileSync(join(dir, "password"), `${PASSWORD}\n`, { mode: 0o600 });
      writeFileSync(join(dir, "ca.pem"), CA);
      const security = kafkaSecurityOf({
        KAFKA_TLS_CA_FILE: join(dir, "ca.pem"),
        KAFKA_SASL_MECHANISM: "scram-sha-256",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD_FILE: join(dir, "password"),
      });
      expect(security).toEqual({
        tls: { ca: CA.trimEnd() },
        sasl: { mechanism: "scram-sha-256", username: "u", password: PASSWORD },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
