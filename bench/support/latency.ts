import { percentile } from "@runhooks/cli";

/** `p50 … ms   p99 … ms   max … ms` of the values (sorted in place). */
export function latencyStats(values: number[]): string {
  values.sort((a, b) => a - b);
  const f = (v: number) => `${Math.round(v)}`.padStart(5);
  return `p50 ${f(percentile(values, 50))} ms   p99 ${f(percentile(values, 99))} ms   max ${f(values[values.length - 1] ?? Number.NaN)} ms`;
}

/** The p-th percentile of the values (sorted in place). */
export function percentileOf(values: number[], p: number): number {
  values.sort((a, b) => a - b);
  return percentile(values, p);
}
