// Where a delivery's cost goes, measured around the service's run: Postgres transactions and row
// writes (pg_stat_*, the bench database only) and CPU seconds per process group (/proc; Linux only).
import { readFileSync, readdirSync } from "node:fs";
import { sql, type Database } from "@runhooks/db";

const TICKS = 100; // USER_HZ

interface Sample {
  readonly xacts: number;
  readonly tables: Map<string, { ins: number; upd: number; hot: number; del: number }>;
  readonly cpu: Map<string, number>;
}

function stat(pid: number, thread = false): string[] | undefined {
  try {
    const text = readFileSync(thread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, "utf8");
    // The command may hold spaces: fields start after its closing parenthesis (field 3 = index 0).
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** utime + stime (+ reaped children's when `children`), seconds; of the main thread only when `thread`. */
function cpuOf(pid: number, children: boolean, thread = false): number {
  const f = stat(pid, thread);
  if (!f) return 0;
  const own = Number(f[11]) + Number(f[12]);
  return (children ? own + Number(f[13]) + Number(f[14]) : own) / TICKS;
}

function pids(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

export interface CostProbe {
  sample(): Promise<Sample>;
  report(before: Sample, after: Sample, deliveries: number): string[];
  /** CPU per item of each process between two samples, as one line. */
  cpu(before: Sample, after: Sample, items: number): string;
}

/**
 * Postgres: the postmaster (with its exited backends, reaped into its children's time) and its live
 * backends. Kafka: our broker's JVM. Receiver: its process. Delivery: this process (the service runs
 * in it, with the bench's polling).
 */
export async function costProbe(db: Database, stateDir: string, receiverPid: number | undefined): Promise<CostProbe> {
  const [pm] = (await db.query(sql`SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`)) as {
    pid: number;
  }[];
  const postmaster = pm ? Number(stat(pm.pid)?.[1]) : undefined;
  const kafka = pids().find((p) => cmdline(p).includes(`kafka.logs.dir=${stateDir}/kafka`));

  async function sample(): Promise<Sample> {
    const [x] = (await db.query(
      sql`SELECT xact_commit::int8 AS n FROM pg_stat_database WHERE datname = current_database()`,
    )) as { n: bigint }[];
    const rows = (await db.query(sql`
      SELECT relname, n_tup_ins::int8 AS ins, n_tup_upd::int8 AS upd, n_tup_hot_upd::int8 AS hot, n_tup_del::int8 AS del
      FROM pg_stat_user_tables WHERE relname IN ('delivery_windows', 'deliveries', 'delivery_attempts')`)) as {
      relname: string;
      ins: bigint;
      upd: bigint;
      hot: bigint;
      del: bigint;
    }[];
    const cpu = new Map<string, number>();
    const own = process.cpuUsage();
    cpu.set("delivery+bench (node)", (own.user + own.system) / 1e6);
    // Its main thread alone (the thread whose id is the process id): one thread's work caps the rate.
    cpu.set("of which main thread", cpuOf(process.pid, false, true));
    if (process.env["BENCH_THREADS"] !== undefined) {
      // The other threads (the main one is above): V8's platform workers, libuv's pool, worker threads.
      for (const tid of readdirSync(`/proc/${process.pid}/task`).filter((t) => t !== String(process.pid))) {
        const comm = readFileSync(`/proc/${process.pid}/task/${tid}/comm`, "utf8").trim();
        const f = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
        const v = f.slice(f.lastIndexOf(")") + 2).split(" ");
        const key = `thread ${comm}#${tid}`;
        cpu.set(key, (cpu.get(key) ?? 0) + (Number(v[11]) + Number(v[12])) / TICKS);
      }
    }
    if (postmaster !== undefined) {
      let pg = cpuOf(postmaster, true);
      for (const p of pids()) if (stat(p)?.[1] === String(postmaster)) pg += cpuOf(p, false);
      cpu.set("postgres", pg);
    }
    if (kafka !== undefined) cpu.set("kafka", cpuOf(kafka, false));
    if (receiverPid !== undefined) cpu.set("receiver", cpuOf(receiverPid, false));
    return {
      xacts: Number(x?.n ?? 0),
      tables: new Map(
        rows.map((r) => [
          r.relname,
          { ins: Number(r.ins), upd: Number(r.upd), hot: Number(r.hot), del: Number(r.del) },
        ]),
      ),
      cpu,
    };
  }

  function report(before: Sample, after: Sample, n: number): string[] {
    const per = (v: number) => (v / n).toFixed(2);
    const lines = [
      `postgres transactions: ${per(after.xacts - before.xacts)} per delivery (the bench's own polling included)`,
    ];
    let writes = 0;
    const parts: string[] = [];
    for (const [table, a] of after.tables) {
      const b = before.tables.get(table) ?? { ins: 0, upd: 0, hot: 0, del: 0 };
      const ins = a.ins - b.ins;
      const upd = a.upd - b.upd;
      writes += ins + upd + (a.del - b.del);
      parts.push(`${table} ${per(ins)} ins + ${per(upd)} upd (${per(a.hot - b.hot)} HOT)`);
    }
    lines.push(`row writes:            ${per(writes)} per delivery: ${parts.join(", ")}`);
    lines.push(`CPU per delivery:      ${cpu(before, after, n)}`);
    return lines;
  }

  function cpu(before: Sample, after: Sample, n: number): string {
    return [...after.cpu]
      .map(([k, v]) => `${k} ${(((v - (before.cpu.get(k) ?? 0)) / n) * 1e6).toFixed(0)} µs`)
      .join(", ");
  }

  return { sample, report, cpu };
}
