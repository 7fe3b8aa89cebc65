import { z } from "zod";
import { Id, SchemaVersion, UtcTimestamp } from "./common.js";
import { Run } from "./run.js";

/** A Kafka partition number. */
const PartitionNumber = z.number().int().nonnegative();
/** A stream time: a broker append time in milliseconds since the epoch. */
const StreamTimeMs = z.number().int().nonnegative();

/**
 * A window part without its runs: what a consumer checks before it looks at the runs (which it passes
 * through byte for byte). Strict, like every message runhooks writes.
 */
export const WindowPartHead = z.strictObject({
  schema_version: SchemaVersion,
  /** UUIDv5 of (rule id, rule version, runs partition, window start, piece): a re-emitted part keeps it. */
  part_id: Id,
  rule_id: Id,
  rule_version: z.number().int().positive(),
  tenant_id: Id,
  /** The rule version's `max_runs`: the assembled window is cut into chunks of this many runs. */
  max_runs: z.number().int().positive(),
  /** The runs partition whose stream these runs came from. */
  runs_partition: PartitionNumber,
  /** Index of this part among the parts of one runs partition's window (a part is one Kafka message). */
  piece: z.number().int().nonnegative(),
  start_time: UtcTimestamp,
  end_time: UtcTimestamp,
});
export type WindowPartHead = z.infer<typeof WindowPartHead>;

/**
 * One runs partition's share of a match window on `runhooks.windows`, keyed by rule id.
 *
 * `runs` are the matched runs' exact JSON; `run_times[i]` is the stream time (ms) at which `runs[i]` was
 * read, which orders the runs of the assembled window. A window's parts from all runs partitions make
 * one window once every runs partition's watermark has passed `end_time`.
 */
export const WindowPart = WindowPartHead.extend({
  runs: z.array(Run).min(1, "a part holds at least one run"),
  run_times: z.array(StreamTimeMs),
}).refine((part) => part.run_times.length === part.runs.length, {
  path: ["run_times"],
  message: "must hold one time per run",
});
export type WindowPart = z.infer<typeof WindowPart>;

/**
 * A runs partition's stream time, written to every partition of `runhooks.windows` after the parts it
 * covers: every part of `runs_partition` for a window with end <= `stream_time` precedes it.
 *
 * `stream_time` is in milliseconds (not ISO-8601) because it is only ever compared with window bounds
 * and run times, which the assembler holds as milliseconds; a number is exact and needs no parsing, and
 * each windows partition reads one of these per runs partition per second. It never reaches a receiver.
 */
export const RunsWatermark = z.strictObject({
  schema_version: SchemaVersion,
  runs_partition: PartitionNumber,
  stream_time: StreamTimeMs,
});
export type RunsWatermark = z.infer<typeof RunsWatermark>;

/**
 * A window part inside a WindowPartBundle: the part's head, and its runs as indexes into the bundle's
 * `runs` (in the part's run order). `traceparent`: the W3C trace context of the part's publish span,
 * when the evaluator traces (a single part message carries it as a header instead).
 */
export const BundledWindowPart = WindowPartHead.extend({
  run_refs: z.array(z.number().int().nonnegative()).min(1, "a part holds at least one run"),
  traceparent: z.string().min(1).max(512).optional(),
});
export type BundledWindowPart = z.infer<typeof BundledWindowPart>;

/**
 * The parts one flush of one runs partition publishes to one windows partition, as one message on
 * `runhooks.windows` (`runhooks-kind: parts`, no key): each run's exact JSON once, however many of the
 * parts hold it. Expanding it gives exactly the WindowParts it bundles, in order: part i is its head
 * with `runs[r]` and `run_times[r]` for each r of its `run_refs`. `runs` comes last, so the evaluator
 * writes the runs' bytes as they were read after a head it serialises.
 */
export const WindowPartBundle = z
  .strictObject({
    schema_version: SchemaVersion,
    /** Every part's `runs_partition`. */
    runs_partition: PartitionNumber,
    parts: z.array(BundledWindowPart).min(1, "a bundle holds at least one part"),
    /** `run_times[i]`: the stream time (ms) at which `runs[i]` was read. */
    run_times: z.array(StreamTimeMs),
    runs: z.array(Run).min(1, "a bundle holds at least one run"),
  })
  .superRefine((b, ctx) => {
    if (b.run_times.length !== b.runs.length)
      ctx.addIssue({ code: "custom", path: ["run_times"], message: "must hold one time per run" });
    b.parts.forEach((p, i) => {
      if (p.runs_partition !== b.runs_partition)
        ctx.addIssue({ code: "custom", path: ["parts", i, "runs_partition"], message: "must be the bundle's" });
      const bad = p.run_refs.findIndex((r) => r >= b.runs.length);
      if (bad >= 0)
        ctx.addIssue({ code: "custom", path: ["parts", i, "run_refs", bad], message: "must index the bundle's runs" });
    });
  });
export type WindowPartBundle = z.infer<typeof WindowPartBundle>;
