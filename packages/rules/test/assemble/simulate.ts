import { windowId, type AssembleInput, type AssemblePart, type PartRun } from "@runhooks/rules";
import { Gen } from "../filter/generate.js";

/**
 * A seeded simulation of evaluators publishing to one windows partition: runs partitions (some added
 * while runs flow) each fold their runs into per-partition windows, publish a window's parts (split
 * into pieces at random) once their stream time passes its end, then a watermark when the stream time
 * crossed a whole second. Each partition's messages reach the log in its own order, interleaved at
 * random with the others', so every watermark (p, S) follows every part of p for a window with end
 * <= S. Evaluator refolds are simulated by re-publishing earlier parts and watermarks, and client
 * retries by runs appended again, to the same partition or another.
 */

export interface SimRule {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly seconds: number;
  readonly maxRuns: number;
}

export type LogMessage = Extract<AssembleInput, { kind: "part" } | { kind: "watermark" }>;
type Unsent =
  | { readonly kind: "part"; readonly part: AssemblePart }
  | { readonly kind: "watermark"; readonly runsPartition: number; readonly streamTime: number };

export interface Simulation {
  /** The windows partition, in offset order, with the runs partition count known when it was appended. */
  readonly log: readonly { readonly message: LogMessage; readonly known: number }[];
  /** Ground truth: the run ids each window `rule/version/start` holds over all runs partitions. */
  readonly truth: ReadonlyMap<string, ReadonlySet<string>>;
}

export const SIM_TENANT = "33333333-3333-4333-8333-333333333333";
const encoder = new TextEncoder();

interface OpenWindow {
  readonly rule: SimRule;
  readonly startMs: number;
  readonly runs: PartRun[];
  readonly ids: Set<string>;
}

/** One runs partition's evaluator, reduced to what it publishes. */
class EvaluatorPartition {
  streamTime = Number.NEGATIVE_INFINITY;
  lastWatermark = Number.NEGATIVE_INFINITY;
  readonly open = new Map<string, OpenWindow>();
  readonly queue: Unsent[] = [];
  readonly published: Unsent[] = [];

  constructor(
    readonly p: number,
    private readonly g: Gen,
    private readonly truth: Map<string, Set<string>>,
  ) {}

  advance(time: number): void {
    if (time > this.streamTime) this.streamTime = time;
    const due = [...this.open.entries()].filter(([, w]) => w.startMs + w.rule.seconds * 1000 <= this.streamTime);
    due.sort(
      ([a, wa], [b, wb]) =>
        wa.startMs + wa.rule.seconds * 1000 - (wb.startMs + wb.rule.seconds * 1000) || (a < b ? -1 : 1),
    );
    for (const [key, w] of due) {
      this.open.delete(key);
      this.publishParts(w);
    }
    if (Math.floor(this.streamTime / 1000) > Math.floor(this.lastWatermark / 1000)) {
      this.lastWatermark = this.streamTime;
      this.send({ kind: "watermark", runsPartition: this.p, streamTime: this.streamTime });
    }
  }

  addRun(time: number, run: { runId: string; json: Uint8Array }, rules: readonly SimRule[]): void {
    this.advance(time);
    for (const rule of rules) {
      const lengthMs = rule.seconds * 1000;
      const startMs = Math.floor(this.streamTime / lengthMs) * lengthMs;
      const key = `${rule.ruleId}/${rule.ruleVersion}/${startMs}`;
      let w = this.open.get(key);
      if (!w) {
        w = { rule, startMs, runs: [], ids: new Set() };
        this.open.set(key, w);
      }
      if (w.ids.has(run.runId)) continue;
      w.ids.add(run.runId);
      w.runs.push({ ...run, time: this.streamTime });
      let truth = this.truth.get(key);
      if (!truth) this.truth.set(key, (truth = new Set()));
      truth.add(run.runId);
    }
  }

  /** Re-publishes a recent part or watermark, as an evaluator refolding after a crash would. */
  republish(): void {
    if (this.published.length === 0) return;
    const recent = this.published.slice(-8);
    this.queue.push(this.g.pick(recent));
  }

  private publishParts(w: OpenWindow): void {
    let piece = 0;
    for (let at = 0; at < w.runs.length; piece++) {
      // Pieces stand for the byte budget's splits: usually the whole rest, sometimes a few runs.
      const size = this.g.chance(0.25) ? this.g.int(1, 3) : w.runs.length - at;
      const { ruleId, ruleVersion, maxRuns, seconds } = w.rule;
      this.send({
        kind: "part",
        part: {
          partId: windowId({ ruleId, ruleVersion, partition: this.p, startMs: w.startMs, chunk: piece }),
          ruleId,
          ruleVersion,
          tenantId: SIM_TENANT,
          maxRuns,
          runsPartition: this.p,
          piece,
          startMs: w.startMs,
          endMs: w.startMs + seconds * 1000,
          runs: w.runs.slice(at, at + size),
        },
      });
      at += size;
    }
  }

  private send(message: Unsent): void {
    this.queue.push(message);
    this.published.push(message);
  }
}

export interface SimOptions {
  readonly rules: readonly SimRule[];
  readonly steps: number;
  /** When each runs partition is created (ms of stream time); partition p is created at `created[p]`. */
  readonly created: readonly number[];
}

export function simulate(random: () => number, options: SimOptions): Simulation {
  const g = new Gen(random);
  const truth = new Map<string, Set<string>>();
  const partitions: EvaluatorPartition[] = [];
  const log: { message: LogMessage; known: number }[] = [];
  const recentRuns: { runId: string; json: Uint8Array }[] = [];
  let time = 0;
  let runCount = 0;

  const append = (p: EvaluatorPartition) => {
    const unsent = p.queue.shift();
    if (!unsent) return;
    const offset = log.length;
    const message: LogMessage =
      unsent.kind === "part" ? { kind: "part", offset, ...unsent.part } : { ...unsent, offset };
    log.push({ message, known: partitions.length });
  };

  for (let step = 0; step < options.steps; step++) {
    time += g.int(0, 90);
    while (partitions.length < options.created.length && (options.created[partitions.length] ?? Infinity) <= time) {
      partitions.push(new EvaluatorPartition(partitions.length, g, truth));
    }
    const p = g.pick(partitions);
    if (g.chance(0.75)) {
      const retried = recentRuns.length > 0 && g.chance(0.06);
      const run = retried
        ? g.pick(recentRuns.slice(-20))
        : { runId: `run-${runCount}`, json: encoder.encode(`{"id":"run-${runCount++}"}`) };
      if (!retried) recentRuns.push(run);
      p.addRun(
        time,
        run,
        options.rules.filter(() => g.chance(0.45)),
      );
    } else {
      p.advance(time); // a tick: idle partitions keep their watermarks moving
    }
    if (g.chance(0.03)) g.pick(partitions).republish();
    for (let moves = g.int(0, 3); moves > 0; moves--) append(g.pick(partitions));
  }
  // Drain: every partition's stream time passes every window's end; every message reaches the log.
  time += 60_000;
  for (const p of partitions) p.advance(time);
  for (;;) {
    const waiting = partitions.filter((p) => p.queue.length > 0);
    if (waiting.length === 0) break;
    append(g.pick(waiting));
  }
  return { log, truth };
}
