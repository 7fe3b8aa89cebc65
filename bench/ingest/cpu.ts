import { readFileSync } from "node:fs";

/**
 * CPU time of processes, to report CPU per run next to runs/s: on a shared machine the rate moves with
 * what else runs, the CPU a run costs much less. Linux only (/proc); elsewhere the readings are absent.
 */

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux build that matters here.

/** User + system CPU milliseconds a process has used, or undefined when it cannot be read. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The pid recorded in a pid file (the local broker's), if it is there. */
export function pidFromFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim().split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuReading {
  readonly [who: string]: number | undefined;
}

/** Reads the CPU of each named process now; `self` is this process. */
export function readCpu(pids: Readonly<Record<string, number | undefined>>): CpuReading {
  const out: Record<string, number | undefined> = {};
  for (const [who, pid] of Object.entries(pids)) {
    if (pid === process.pid) {
      const u = process.cpuUsage();
      out[who] = (u.user + u.system) / 1000;
    } else out[who] = processCpuMs(pid);
  }
  return out;
}

/** `who X µs/run` for each process whose CPU was readable at both ends, and their sum. */
export function cpuPerRun(before: CpuReading, after: CpuReading, runs: number): string {
  const parts: string[] = [];
  let total = 0;
  for (const who of Object.keys(after)) {
    const a = after[who];
    const b = before[who];
    if (a === undefined || b === undefined) continue;
    const us = ((a - b) * 1000) / runs;
    total += us;
    parts.push(`${who} ${us.toFixed(0)}`);
  }
  return parts.length === 0 ? "CPU not readable" : `CPU µs/run: ${parts.join(", ")}, total ${total.toFixed(0)}`;
}
