import type { KafkaConfig } from "kafkajs";

/** The SASL mechanisms runhooks speaks (kafkajs' names). */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** TLS to the brokers. Every field is optional: `{}` is TLS verified against Node's default roots. */
export interface KafkaTls {
  /** PEM certificates trusted instead of Node's default roots (a private CA). */
  readonly ca?: string;
  /** PEM client certificate and its private key, for brokers that require one (mutual TLS). */
  readonly cert?: string;
  readonly key?: string;
  /** Decrypts `key` when it is encrypted. */
  readonly passphrase?: string;
  /** The name the broker certificate is checked against (and sent as SNI) instead of the broker's host. */
  readonly servername?: string;
}

export interface KafkaSasl {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  /** A secret: never logged, never in an error message (`describeKafkaSecurity` leaves it out). */
  readonly password: string;
}

/**
 * How a client proves itself to the brokers and protects the connection. Plain data (it crosses to
 * worker threads); undefined or `{}` is PLAINTEXT.
 */
export interface KafkaSecurity {
  readonly tls?: KafkaTls;
  readonly sasl?: KafkaSasl;
}

/** The kafkajs settings for `security`: `ssl` and `sasl`, each only when used. */
export function kafkaConnectionConfig(security: KafkaSecurity | undefined): Pick<KafkaConfig, "ssl" | "sasl"> {
  const out: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  const tls = security?.tls;
  if (tls !== undefined) {
    const options = {
      ...(tls.ca === undefined ? {} : { ca: [tls.ca] }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
      ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    };
    // Certificates are always verified (Node's default, never turned off here).
    out.ssl = { ...options, rejectUnauthorized: true };
  }
  const sasl = security?.sasl;
  if (sasl !== undefined) {
    out.sasl = { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as KafkaConfig["sasl"];
  }
  return out;
}

/** Kafka's name for the connection's protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
export function securityProtocol(security: KafkaSecurity | undefined): string {
  const tls = security?.tls !== undefined;
  if (security?.sasl === undefined) return tls ? "SSL" : "PLAINTEXT";
  return tls ? "SASL_SSL" : "SASL_PLAINTEXT";
}

/**
 * One line for humans (start-up reports, errors): protocol, mechanism and user, client certificate and
 * private CA when used. Never the password, the key or its passphrase.
 */
export function describeKafkaSecurity(security: KafkaSecurity | undefined): string {
  const parts = [securityProtocol(security)];
  const { sasl, tls } = security ?? {};
  if (sasl !== undefined) parts.push(`${sasl.mechanism.toUpperCase()} as ${sasl.username}`);
  if (tls?.cert !== undefined) parts.push("client certificate");
  if (tls?.ca !== undefined) parts.push("private CA");
  if (tls?.servername !== undefined) parts.push(`server name ${tls.servername}`);
  return parts.join(", ");
}
