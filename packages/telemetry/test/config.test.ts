import { describe, expect, it } from "vitest";
import {
  OTEL_OFF,
  OtelConfigError,
  createTelemetry,
  otelConfigFromEnv,
  parseKeyValues,
  prometheusName,
  prometheusSeries,
} from "@runhooks/telemetry";

describe("otelConfigFromEnv", () => {
  it("is off without an endpoint: nothing exported, tracing disabled", () => {
    const config = otelConfigFromEnv({});
    expect(config.tracesEndpoint).toBeUndefined();
    expect(config.metricsEndpoint).toBeUndefined();
    const t = createTelemetry(config, { name: "x", version: "1", instanceId: "i" });
    expect(t.tracingEnabled).toBe(false);
    expect(t.tracer.startSpan("s").isRecording()).toBe(false);
  });

  it("derives the signal endpoints from OTEL_EXPORTER_OTLP_ENDPOINT; per-signal ones win", () => {
    expect(otelConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toMatchObject({
      tracesEndpoint: "http://c:4318/v1/traces",
      metricsEndpoint: "http://c:4318/v1/metrics",
    });
    expect(
      otelConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://t/x",
      }).tracesEndpoint,
    ).toBe("https://t/x");
  });

  it("honours OTEL_*_EXPORTER=none and OTEL_SDK_DISABLED", () => {
    const c = otelConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_METRICS_EXPORTER: "none" });
    expect(c.tracesEndpoint).toBe("http://c:4318/v1/traces");
    expect(c.metricsEndpoint).toBeUndefined();
    expect(otelConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" })).toBe(
      OTEL_OFF,
    );
  });

  it("reads service name, resource attributes, headers, sampler and intervals", () => {
    const c = otelConfigFromEnv({
      OTEL_SERVICE_NAME: "svc",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod,team=a%20b",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20x",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_METRIC_EXPORT_INTERVAL: "1000",
    });
    expect(c).toMatchObject({
      serviceName: "svc",
      resourceAttributes: { "deployment.environment.name": "prod", team: "a b" },
      headers: { authorization: "Bearer x" },
      sampler: { kind: "parentbased_traceidratio", ratio: 0.25 },
      metricExportIntervalMs: 1000,
    });
  });

  it("refuses malformed values with a configuration error", () => {
    expect(() => otelConfigFromEnv({ OTEL_TRACES_SAMPLER: "sometimes" })).toThrow(OtelConfigError);
    expect(() => otelConfigFromEnv({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(
      /ratio/,
    );
    expect(() => otelConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4317" })).toThrow(/http/);
    expect(() => otelConfigFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: "soon" })).toThrow(/milliseconds/);
    expect(() => parseKeyValues("novalue", "X")).toThrow(/key=value/);
  });
});

describe("Prometheus names", () => {
  it("are the instrument names with underscores, counters ending in _total, histograms as their series", () => {
    expect(prometheusName({ name: "runhooks.delivery.attempts", kind: "counter", help: "" })).toBe(
      "runhooks_delivery_attempts_total",
    );
    expect(prometheusName({ name: "runhooks.evaluator.open_windows", kind: "gauge", help: "" })).toBe(
      "runhooks_evaluator_open_windows",
    );
    expect(prometheusSeries({ name: "a.b_seconds", kind: "histogram", help: "" })).toEqual([
      "a_b_seconds_bucket",
      "a_b_seconds_sum",
      "a_b_seconds_count",
      "a_b_seconds",
    ]);
  });
});
