import type { Attributes, Histogram, Meter } from "@opentelemetry/api";
import type { Consumer } from "kafkajs";

/**
 * A metric a service exports. Its definition is data, so a static check can list every series the
 * services export (the Grafana dashboards may only query those).
 */
export interface MetricDef {
  /** OpenTelemetry instrument name, dotted (`runhooks.delivery.attempts`). */
  readonly name: string;
  readonly kind: "counter" | "gauge" | "histogram";
  readonly help: string;
  readonly unit?: string;
  /** Histogram bucket boundaries. */
  readonly buckets?: readonly number[];
}

/** Latency buckets in seconds, 5 ms to 5 min. */
export const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

/** The metric's name in Prometheus (as /metrics and the collector's Prometheus exporter write it). */
export function prometheusName(def: MetricDef): string {
  const base = def.name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return def.kind === "counter" && !base.endsWith("_total") ? `${base}_total` : base;
}

/** Every series name the metric appears as in Prometheus. */
export function prometheusSeries(def: MetricDef): string[] {
  const base = prometheusName(def);
  return def.kind === "histogram" ? [`${base}_bucket`, `${base}_sum`, `${base}_count`, base] : [base];
}

/** A value with no labels, or labelled values. */
export type Observation = number | Iterable<readonly [Attributes, number]>;

/**
 * Registers a counter or gauge read at collection time from state the service keeps anyway: the hot
 * path increments plain numbers and pays nothing for the metrics pipeline.
 */
export function observe(meter: Meter, def: MetricDef, read: () => Observation): void {
  const options = { description: def.help, ...(def.unit ? { unit: def.unit } : {}) };
  const instrument =
    def.kind === "counter"
      ? meter.createObservableCounter(def.name, options)
      : meter.createObservableGauge(def.name, options);
  instrument.addCallback((result) => {
    const value = read();
    if (typeof value === "number") result.observe(value);
    else for (const [attributes, n] of value) result.observe(n, attributes);
  });
}

export function histogram(meter: Meter, def: MetricDef): Histogram {
  return meter.createHistogram(def.name, {
    description: def.help,
    ...(def.unit ? { unit: def.unit } : {}),
    ...(def.buckets ? { advice: { explicitBucketBoundaries: [...def.buckets] } } : {}),
  });
}

/** Labelled values of a record: `{reason: n}` → `[{[label]: reason}, n]`. */
export function labelled(label: string, values: Readonly<Record<string, number | undefined>>): [Attributes, number][] {
  return Object.entries(values).map(([key, n]) => [{ [label]: key }, n ?? 0]);
}

/** Messages behind the high watermark, per partition the consumer holds, after its last batch. */
export interface ConsumerLag {
  observations(): [Attributes, number][];
}

/**
 * Follows a kafkajs consumer's lag from its own batch events (no extra requests): after each batch,
 * high watermark − 1 − last offset read. A rebalance forgets partitions until their next batch.
 */
export function trackConsumerLag(consumer: Consumer): ConsumerLag {
  const lag = new Map<string, { topic: string; partition: number; lag: number }>();
  consumer.on(consumer.events.GROUP_JOIN, () => lag.clear());
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { topic, partition, offsetLag } = e.payload;
    lag.set(`${topic}/${partition}`, { topic, partition, lag: Math.max(0, Number(offsetLag)) });
  });
  return {
    observations: () => [...lag.values()].map((p) => [{ topic: p.topic, partition: String(p.partition) }, p.lag]),
  };
}
