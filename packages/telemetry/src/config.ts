import { RunhooksError } from "@runhooks/errors";

/**
 * OpenTelemetry configuration from the standard OTEL_* variables, read from an environment object the
 * service's composition root passes in (packages never read process.env). Pure.
 */
export type SamplerConfig =
  | { readonly kind: "always_on" | "always_off" | "parentbased_always_on" | "parentbased_always_off" }
  | { readonly kind: "traceidratio" | "parentbased_traceidratio"; readonly ratio: number };

export interface OtelConfig {
  /** OTEL_SERVICE_NAME: overrides the service's own name (`runhooks-evaluator`…). */
  readonly serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES, `k=v,k2=v2` (values percent-decoded). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** Where spans go (OTLP/HTTP JSON); undefined: tracing is off and costs nothing. */
  readonly tracesEndpoint?: string;
  /** Where metrics go (OTLP/HTTP JSON); undefined: metrics are only served on /metrics. */
  readonly metricsEndpoint?: string;
  /** OTEL_EXPORTER_OTLP_HEADERS (and the per-signal ones): may hold credentials, never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly sampler: SamplerConfig;
  /** OTEL_METRIC_EXPORT_INTERVAL (ms), default 60 s. */
  readonly metricExportIntervalMs: number;
  /** OTEL_BSP_SCHEDULE_DELAY (ms), default 5 s. */
  readonly spanExportDelayMs: number;
}

/** Telemetry off: no exports, metrics on /metrics only. */
export const OTEL_OFF: OtelConfig = {
  resourceAttributes: {},
  headers: {},
  sampler: { kind: "parentbased_always_on" },
  metricExportIntervalMs: 60_000,
  spanExportDelayMs: 5000,
};

/** The variables `otelConfigFromEnv` reads (the services' env.ts documents them). */
export const OTEL_ENV_KEYS = [
  "OTEL_SDK_DISABLED",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_TRACES_EXPORTER",
  "OTEL_METRICS_EXPORTER",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
  "OTEL_METRIC_EXPORT_INTERVAL",
  "OTEL_BSP_SCHEDULE_DELAY",
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** An environment holding (some of) the OTEL_* variables: process.env, or a service's parsed env. */
export type OtelEnv = { readonly [K in (typeof OTEL_ENV_KEYS)[number]]?: string | undefined };

/** Thrown for a malformed OTEL_* value: a configuration error, not retriable. */
export class OtelConfigError extends RunhooksError {
  readonly code = "invalid_otel_config";
  readonly retriable = false;
  override readonly name = "OtelConfigError";
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/** `k=v,k2=v2` as the spec defines it for resource attributes and OTLP headers. */
export function parseKeyValues(text: string | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new OtelConfigError(`${what}: expected key=value pairs separated by commas`);
    try {
      out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new OtelConfigError(`${what}: a key or value is not valid percent-encoding`);
    }
  }
  return out;
}

function signalEndpoint(env: Env, signal: "traces" | "metrics"): string | undefined {
  const exporter = nonEmpty(env[`OTEL_${signal.toUpperCase()}_EXPORTER`]);
  if (exporter !== undefined && exporter !== "otlp") return undefined;
  const specific = nonEmpty(env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`]);
  const base = nonEmpty(env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
  const url = specific ?? (base === undefined ? undefined : `${base.replace(/\/+$/, "")}/v1/${signal}`);
  if (url !== undefined && !/^https?:\/\//.test(url)) {
    throw new OtelConfigError(`the OTLP ${signal} endpoint must be an http(s) URL (OTLP/HTTP)`);
  }
  return url;
}

function sampler(env: Env): SamplerConfig {
  const kind = nonEmpty(env["OTEL_TRACES_SAMPLER"]) ?? "parentbased_always_on";
  switch (kind) {
    case "always_on":
    case "always_off":
    case "parentbased_always_on":
    case "parentbased_always_off":
      return { kind };
    case "traceidratio":
    case "parentbased_traceidratio": {
      const ratio = Number(nonEmpty(env["OTEL_TRACES_SAMPLER_ARG"]) ?? "1");
      if (!(ratio >= 0 && ratio <= 1))
        throw new OtelConfigError("OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1");
      return { kind, ratio };
    }
    default:
      throw new OtelConfigError(
        `OTEL_TRACES_SAMPLER=${kind} is not supported (always_on, always_off, traceidratio, parentbased_*)`,
      );
  }
}

function millis(env: Env, key: string, fallback: number): number {
  const text = nonEmpty(env[key]);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new OtelConfigError(`${key} must be a positive number of milliseconds`);
  return n;
}

export function otelConfigFromEnv(otelEnv: OtelEnv): OtelConfig {
  const env = otelEnv as Env;
  if (nonEmpty(env["OTEL_SDK_DISABLED"])?.toLowerCase() === "true") return OTEL_OFF;
  const tracesEndpoint = signalEndpoint(env, "traces");
  const metricsEndpoint = signalEndpoint(env, "metrics");
  const serviceName = nonEmpty(env["OTEL_SERVICE_NAME"]);
  const common = parseKeyValues(env["OTEL_EXPORTER_OTLP_HEADERS"], "OTEL_EXPORTER_OTLP_HEADERS");
  return {
    ...(serviceName ? { serviceName } : {}),
    resourceAttributes: parseKeyValues(env["OTEL_RESOURCE_ATTRIBUTES"], "OTEL_RESOURCE_ATTRIBUTES"),
    ...(tracesEndpoint ? { tracesEndpoint } : {}),
    ...(metricsEndpoint ? { metricsEndpoint } : {}),
    headers: common,
    sampler: sampler(env),
    metricExportIntervalMs: millis(env, "OTEL_METRIC_EXPORT_INTERVAL", 60_000),
    spanExportDelayMs: millis(env, "OTEL_BSP_SCHEDULE_DELAY", 5000),
  };
}
