import { readFileSync } from "node:fs";
import { RunhooksError } from "@runhooks/errors";
import { SASL_MECHANISMS, type KafkaSecurity, type KafkaTls, type SaslMechanism } from "./security.js";

/**
 * The variables that configure a Kafka client's TLS and SASL (docs/configuration.md). Those that take
 * a certificate, a key or a credential may instead name a file with `<NAME>_FILE` (mounted secrets).
 */
export const KAFKA_SECURITY_ENV_KEYS = [
  "KAFKA_TLS",
  "KAFKA_TLS_CA",
  "KAFKA_TLS_CA_FILE",
  "KAFKA_TLS_CERT",
  "KAFKA_TLS_CERT_FILE",
  "KAFKA_TLS_KEY",
  "KAFKA_TLS_KEY_FILE",
  "KAFKA_TLS_KEY_PASSPHRASE",
  "KAFKA_TLS_KEY_PASSPHRASE_FILE",
  "KAFKA_TLS_SERVERNAME",
  "KAFKA_SASL_MECHANISM",
  "KAFKA_SASL_USERNAME",
  "KAFKA_SASL_USERNAME_FILE",
  "KAFKA_SASL_PASSWORD",
  "KAFKA_SASL_PASSWORD_FILE",
] as const;
export type KafkaSecurityEnvKey = (typeof KAFKA_SECURITY_ENV_KEYS)[number];
export type KafkaSecurityEnv = { readonly [K in KafkaSecurityEnvKey]?: string | undefined };

/** A variable that cannot be used as set; the message says what to do and never holds its value. */
export interface KafkaEnvIssue {
  readonly variable: string;
  readonly message: string;
}

export type KafkaSecurityResult =
  | { readonly ok: true; readonly security: KafkaSecurity | undefined }
  | { readonly ok: false; readonly issues: readonly KafkaEnvIssue[] };

type Readable = "KAFKA_TLS_CA" | "KAFKA_TLS_CERT" | "KAFKA_TLS_KEY" | "KAFKA_TLS_KEY_PASSPHRASE";
type Credential = "KAFKA_SASL_USERNAME" | "KAFKA_SASL_PASSWORD";

const MECHANISMS = SASL_MECHANISMS.join(", ");
const isCertificate = (pem: string) => pem.includes("-----BEGIN CERTIFICATE-----");
const isPrivateKey = (pem: string) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem);

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v);
const readUtf8 = (path: string) => readFileSync(path, "utf8");

/**
 * The Kafka security an environment describes: TLS when KAFKA_TLS=true or any KAFKA_TLS_* is set,
 * SASL when KAFKA_SASL_MECHANISM is set; undefined when neither (PLAINTEXT). Files are read with `read`
 * (tests pass their own). Every unusable variable is reported, none of their values.
 */
export function kafkaSecurityFromEnv(
  env: KafkaSecurityEnv,
  read: (path: string) => string = readUtf8,
): KafkaSecurityResult {
  const issues: KafkaEnvIssue[] = [];
  const issue = (variable: string, message: string) => issues.push({ variable, message });

  /** The variable's value, or its `_FILE`'s content without the trailing line break editors add. */
  const value = (name: Readable | Credential): { text: string; from: string } | undefined => {
    const inline = nonEmpty(env[name]);
    const file = nonEmpty(env[`${name}_FILE`]);
    if (inline !== undefined && file !== undefined) {
      issue(`${name}_FILE`, `set ${name} or ${name}_FILE, not both`);
      return undefined;
    }
    if (file === undefined) return inline === undefined ? undefined : { text: inline, from: name };
    let text: string;
    try {
      text = read(file).replace(/(\r?\n)+$/, "");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      issue(`${name}_FILE`, `cannot read ${file} (${code}): check the path and that this process may read it`);
      return undefined;
    }
    if (text.trim() === "") issue(`${name}_FILE`, `${file} is empty`);
    return { text, from: `${name}_FILE` };
  };
  const pem = (name: Readable, valid: (text: string) => boolean, what: string): string | undefined => {
    const v = value(name);
    if (v !== undefined && !valid(v.text)) issue(v.from, `expected ${what} in PEM form (-----BEGIN …-----)`);
    return v?.text;
  };

  const tls = readTls(env, issue, pem, value);
  const sasl = readSasl(env, issue, value);
  if (issues.length > 0) return { ok: false, issues };
  if (tls === undefined && sasl === undefined) return { ok: true, security: undefined };
  return { ok: true, security: { ...(tls ? { tls } : {}), ...(sasl ? { sasl } : {}) } };
}

function readTls(
  env: KafkaSecurityEnv,
  issue: (variable: string, message: string) => void,
  pem: (name: Readable, valid: (text: string) => boolean, what: string) => string | undefined,
  value: (name: Readable) => { text: string } | undefined,
): KafkaTls | undefined {
  const flag = nonEmpty(env.KAFKA_TLS)?.trim().toLowerCase();
  if (flag !== undefined && !["true", "false", "1", "0"].includes(flag)) issue("KAFKA_TLS", "must be true or false");
  const ca = pem("KAFKA_TLS_CA", isCertificate, "one or more certificates");
  const cert = pem("KAFKA_TLS_CERT", isCertificate, "a certificate");
  const key = pem("KAFKA_TLS_KEY", isPrivateKey, "a private key");
  const passphrase = value("KAFKA_TLS_KEY_PASSPHRASE")?.text;
  const servername = nonEmpty(env.KAFKA_TLS_SERVERNAME)?.trim();
  const tls: KafkaTls = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(passphrase === undefined ? {} : { passphrase }),
    ...(servername === undefined ? {} : { servername }),
  };
  const settings = Object.keys(tls).length > 0;
  if ((cert === undefined) !== (key === undefined)) {
    issue(
      cert === undefined ? "KAFKA_TLS_KEY" : "KAFKA_TLS_CERT",
      "a client certificate needs its private key: set both KAFKA_TLS_CERT(_FILE) and KAFKA_TLS_KEY(_FILE)",
    );
  }
  if (passphrase !== undefined && key === undefined) {
    issue("KAFKA_TLS_KEY_PASSPHRASE", "is set without KAFKA_TLS_KEY(_FILE), the key it decrypts");
  }
  if ((flag === "false" || flag === "0") && settings) {
    issue("KAFKA_TLS", "is false while KAFKA_TLS_* settings are set: set it to true, or unset those settings");
  }
  return flag === "true" || flag === "1" || settings ? tls : undefined;
}

function readSasl(
  env: KafkaSecurityEnv,
  issue: (variable: string, message: string) => void,
  value: (name: Credential) => { text: string } | undefined,
): { mechanism: SaslMechanism; username: string; password: string } | undefined {
  const named = nonEmpty(env.KAFKA_SASL_MECHANISM)?.trim().toLowerCase();
  const username = value("KAFKA_SASL_USERNAME")?.text;
  const password = value("KAFKA_SASL_PASSWORD")?.text;
  if (named === undefined) {
    if (username !== undefined || password !== undefined) {
      issue("KAFKA_SASL_MECHANISM", `is needed with a SASL user and password: one of ${MECHANISMS}`);
    }
    return undefined;
  }
  const mechanism = SASL_MECHANISMS.find((m) => m === named);
  if (mechanism === undefined) issue("KAFKA_SASL_MECHANISM", `must be one of ${MECHANISMS}`);
  if (username === undefined) issue("KAFKA_SASL_USERNAME", "is needed with KAFKA_SASL_MECHANISM (or _FILE)");
  if (password === undefined) issue("KAFKA_SASL_PASSWORD", "is needed with KAFKA_SASL_MECHANISM (or _FILE)");
  if (mechanism === undefined || username === undefined || password === undefined) return undefined;
  return { mechanism, username, password };
}

/** Kafka security settings that cannot be used: a configuration error, not retriable. */
export class KafkaConfigError extends RunhooksError {
  readonly code = "invalid_kafka_config";
  readonly retriable = false;
  override readonly name = "KafkaConfigError";
}

/** The security an environment describes; throws (naming the variables, not their values) when unusable. */
export function kafkaSecurityOf(env: KafkaSecurityEnv, read?: (path: string) => string): KafkaSecurity | undefined {
  const result = kafkaSecurityFromEnv(env, read);
  if (result.ok) return result.security;
  throw new KafkaConfigError(
    `invalid Kafka security settings:\n${result.issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n")}`,
  );
}
