// The backfill bench, in two parts (`BENCH_PARTS=rate,live`, both by default):
//
// - rate: runs/s one backfill process judges alone (rate.ts; BENCH_RUNS, default 100,000). Target: at
//   least half of `npm run bench:evaluator`'s one-rule rate on the same machine.
// - live: the live run → webhook p99 at BENCH_LIVE_RATE runs/s (default 2,000) while a backfill of
//   BENCH_BACKFILL_RUNS runs (default 1,000,000) proceeds under its production throttle, and without it
//   (live.ts; BENCH_BASELINE_S, BENCH_LIVE_RULES). Target: p99 ≤ window + 500 ms.
//
//   npm run bench:backfill
//
// Starts (or reuses) the local Kafka and PostgreSQL like the tests do, and stops what it started.
import { cpus, loadavg } from "node:os";
import { readInfraEnv, startStack } from "@runhooks/infra";
import { measureLive } from "./live.js";
import { measureRate } from "./rate.js";

const PARTS = (process.env["BENCH_PARTS"] ?? "rate,live").split(",");
const say = (line: string) => console.log(line);

const stack = await startStack(readInfraEnv(), (l) => say(`[stack] ${l}`));
try {
  if (PARTS.includes("rate")) {
    const n = Number(process.env["BENCH_RUNS"] ?? 100_000);
    await measureRate(stack, n, say);
    say(`rerun: BENCH_PARTS=rate BENCH_RUNS=${n} npm run bench:backfill`);
  }
  if (PARTS.includes("live"))
    await measureLive(
      stack,
      {
        backfillRuns: Number(process.env["BENCH_BACKFILL_RUNS"] ?? 1_000_000),
        liveRate: Number(process.env["BENCH_LIVE_RATE"] ?? 2000),
        liveRules: Number(process.env["BENCH_LIVE_RULES"] ?? 10),
        baselineSeconds: Number(process.env["BENCH_BASELINE_S"] ?? 30),
        warmupSeconds: Number(process.env["BENCH_WARMUP_S"] ?? 5),
      },
      say,
    );
  say(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} on ${cpus().length} shared cores`,
  );
} finally {
  await stack.stop();
}
