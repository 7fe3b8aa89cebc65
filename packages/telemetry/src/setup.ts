import { type Meter, type Tracer, trace } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { OtelConfig, SamplerConfig } from "./config.js";

/** Links one span may carry (a window links to its runs' producer contexts; more are dropped). */
export const MAX_SPAN_LINKS = 128;

export interface ServiceIdentity {
  /** Default `service.name` (OTEL_SERVICE_NAME overrides it). */
  readonly name: string;
  readonly version: string;
  /** `service.instance.id`. */
  readonly instanceId: string;
}

/**
 * One service's telemetry. Nothing here is process-global: several services can run in one process
 * (the engine, the tests), each with its own providers, and spans are parented explicitly.
 */
export interface Telemetry {
  /**
   * True when spans are exported. When false, `tracer` is a no-op and callers skip every per-message
   * step (header parsing, span creation): tracing off costs the hot path one branch.
   */
  readonly tracingEnabled: boolean;
  readonly tracer: Tracer;
  /** Always real: metrics are served on /metrics, and exported over OTLP when configured. */
  readonly meter: Meter;
  /** The current metrics in Prometheus text format (for /metrics). */
  prometheus(): Promise<string>;
  /** Exports what is buffered (spans, metrics). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

function samplerOf(c: SamplerConfig): Sampler {
  switch (c.kind) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(c.ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(c.ratio) });
  }
}

/** Starts a service's telemetry: OTLP/HTTP (JSON) exporters when configured, Prometheus text always. */
export function createTelemetry(config: OtelConfig, service: ServiceIdentity): Telemetry {
  const resource = resourceFromAttributes({
    ...config.resourceAttributes,
    [ATTR_SERVICE_NAME]: config.serviceName ?? service.name,
    [ATTR_SERVICE_VERSION]: service.version,
    "service.instance.id": service.instanceId,
    "service.namespace": config.resourceAttributes["service.namespace"] ?? "runhooks",
  });

  // Pull-only reader: /metrics collects on demand; it never starts a server of its own.
  const prometheusReader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
  const readers: IMetricReader[] = [prometheusReader];
  if (config.metricsEndpoint !== undefined) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: config.metricsEndpoint, headers: { ...config.headers } }),
        exportIntervalMillis: config.metricExportIntervalMs,
        exportTimeoutMillis: Math.min(30_000, config.metricExportIntervalMs),
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const meter = meterProvider.getMeter("runhooks", service.version);

  let tracerProvider: TracerProvider | undefined;
  if (config.tracesEndpoint !== undefined && config.sampler.kind !== "always_off") {
    tracerProvider = new TracerProvider({
      resource,
      sampler: samplerOf(config.sampler),
      spanLimits: { linkCountLimit: MAX_SPAN_LINKS, attributeValueLengthLimit: 4096 },
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: config.tracesEndpoint, headers: { ...config.headers } }),
          scheduledDelayMillis: config.spanExportDelayMs,
          maxQueueSize: 8192,
          maxExportBatchSize: 1024,
        }),
      ],
    });
  }
  const tracer = tracerProvider?.getTracer("runhooks", service.version) ?? trace.getTracer("runhooks-noop");

  return {
    tracingEnabled: tracerProvider !== undefined,
    tracer,
    meter,
    async prometheus() {
      const { resourceMetrics } = await prometheusReader.collect();
      return serializer.serialize(resourceMetrics);
    },
    async flush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([tracerProvider?.shutdown(), meterProvider.shutdown()]);
    },
  };
}
