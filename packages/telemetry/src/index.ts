export { jsonLogger } from "./log.js";
export type { Level, Logger } from "./log.js";
export { startHttp } from "./http.js";
export type { HttpEndpoints } from "./http.js";
export { stopOnSignals } from "./signals.js";
export { startModuleWorker } from "./module-worker.js";
export { startServiceThread } from "./service-thread.js";
export type { ServiceThread, ServiceThreadOptions, ThreadLifecycleMessage } from "./service-thread.js";
export { OTEL_ENV_KEYS, OTEL_OFF, OtelConfigError, otelConfigFromEnv, parseKeyValues } from "./config.js";
export { otelEnvShape, parseEnv, refineOtelEnv } from "./otel-env.js";
export { ServiceEnv, envFlag, refineServiceEnv } from "./service-env.js";
export { kafkaSecurityEnvShape, refineKafkaSecurityEnv } from "./kafka-env.js";
export type { OtelConfig, OtelEnv, SamplerConfig } from "./config.js";
export { MAX_SPAN_LINKS, createTelemetry } from "./setup.js";
export type { ServiceIdentity, Telemetry } from "./setup.js";
export {
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  headerText,
  parentContext,
  spanContextFromHeaders,
  spanContextFromTraceparent,
  traceparentOf,
  withTraceHeaders,
} from "./kafka-context.js";
export { ATTR, messageAttributes, messagingSpanName } from "./messaging.js";
export type { MessageCoordinates } from "./messaging.js";
export { inSpan, recordUnexpected } from "./spans.js";
export { endProducerSpans, sendTraced, startProducerSpan } from "./produce.js";
export type { ProducerSpan, ProducerSpanOptions, SendTracedOptions } from "./produce.js";
export {
  SECONDS_BUCKETS,
  histogram,
  labelled,
  observe,
  prometheusName,
  prometheusSeries,
  trackConsumerLag,
} from "./metrics.js";
export type { ConsumerLag, MetricDef, Observation } from "./metrics.js";
export { createContextIndex } from "./context-index.js";
export type { ContextIndex } from "./context-index.js";
