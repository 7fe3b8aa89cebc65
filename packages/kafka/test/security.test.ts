import { describe, expect, it } from "vitest";
import { describeKafkaSecurity, kafkaConnectionConfig, type KafkaSecurity } from "@runhooks/kafka";

const sasl = { mechanism: "scram-sha-512", username: "runhooks-api", password: "pw-Sentinel-91c2" } as const;
const tls = { ca: "CA-PEM", cert: "CERT-PEM", key: "KEY-PEM", passphrase: "pp-Sentinel", servername: "kafka.test" };

const cases: [string, KafkaSecurity | undefined, unknown, string][] = [
  ["nothing", undefined, {}, "PLAINTEXT"],
  ["an empty security", {}, {}, "PLAINTEXT"],
  ["TLS with Node's roots", { tls: {} }, { ssl: { rejectUnauthorized: true } }, "SSL"],
  [
    "mutual TLS with a private CA",
    { tls },
    {
      ssl: {
        ca: ["CA-PEM"],
        cert: "CERT-PEM",
        key: "KEY-PEM",
        passphrase: "pp-Sentinel",
        servername: "kafka.test",
        rejectUnauthorized: true,
      },
    },
    "SSL, client certificate, private CA, server name kafka.test",
  ],
  ["SASL without TLS", { sasl }, { sasl }, "SASL_PLAINTEXT, SCRAM-SHA-512 as runhooks-api"],
  [
    "SASL over TLS",
    { tls: { ca: "CA-PEM" }, sasl: { ...sasl, mechanism: "plain" } },
    { ssl: { ca: ["CA-PEM"], rejectUnauthorized: true }, sasl: { ...sasl, mechanism: "plain" } },
    "SASL_SSL, PLAIN as runhooks-api, private CA",
  ],
];

describe("Kafka client security", () => {
  it.each(cases)("%s", (_name, security, kafkajs, described) => {
    expect(kafkaConnectionConfig(security)).toEqual(kafkajs);
    expect(describeKafkaSecurity(security)).toBe(described);
    // The description is safe to print: no password, key or passphrase.
    for (const secret of [sasl.password, "KEY-PEM", "pp-Sentinel"]) expect(described).not.toContain(secret);
  });
});
