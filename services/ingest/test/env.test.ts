import { describe, expect, it } from "vitest";
import { ingestOptionsFromEnv, readIngestEnv } from "@runhooks/ingest";

const base = { KAFKA_BROKERS: "127.0.0.1:9092", DATABASE_URL: "postgres://runhooks@127.0.0.1:5432/runhooks" };

describe("ingest configuration", () => {
  it("takes the shared settings and its own", () => {
    const options = ingestOptionsFromEnv(
      readIngestEnv({ ...base, RUNHOOKS_DB_POOL_SIZE: "4", RUNHOOKS_INGEST_PORT: "0" }),
      () => undefined,
    );
    expect(options).toMatchObject({
      brokers: ["127.0.0.1:9092"],
      databaseUrl: base.DATABASE_URL,
      topicPrefix: "runhooks",
      dbPoolSize: 4,
      port: 0,
    });
  });

  it("refuses a headers timeout longer than the whole request's", () => {
    expect(() =>
      readIngestEnv({
        ...base,
        RUNHOOKS_INGEST_HEADERS_TIMEOUT_MS: "20000",
        RUNHOOKS_INGEST_REQUEST_TIMEOUT_MS: "10000",
      }),
    ).toThrow(/RUNHOOKS_INGEST_HEADERS_TIMEOUT_MS: must not exceed RUNHOOKS_INGEST_REQUEST_TIMEOUT_MS/);
  });

  it("checks the OTEL_* variables together", () => {
    expect(() => readIngestEnv({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://collector" })).toThrow(
      /OTEL: the OTLP traces endpoint must be an http\(s\) URL/,
    );
  });
});
