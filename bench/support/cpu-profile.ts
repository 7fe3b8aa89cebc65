// A V8 CPU profile of this process while `BENCH_CPU_PROFILE=dir` is set (the services under test run
// in the bench's process): dir/<name>.cpuprofile, for Chrome DevTools or speedscope.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

export interface CpuProfile {
  stop(name: string): Promise<void>;
}

export async function cpuProfile(dir = process.env["BENCH_CPU_PROFILE"]): Promise<CpuProfile> {
  if (dir === undefined || dir === "") return { stop: () => Promise.resolve() };
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stop(name) {
      const { profile } = await session.post("Profiler.stop");
      mkdirSync(dir, { recursive: true });
      const path = `${dir}/${name.replace(/[^a-z0-9]+/gi, "-")}.cpuprofile`;
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
      console.log(`CPU profile:           ${path}`);
    },
  };
}

/**
 * A sampling allocation profile of this process while `BENCH_HEAP_PROFILE=dir` is set: where the
 * garbage comes from (dir/<name>.heapprofile; every allocation sampled, live or not).
 */
export async function allocationProfile(dir = process.env["BENCH_HEAP_PROFILE"]): Promise<CpuProfile> {
  if (dir === undefined || dir === "") return { stop: () => Promise.resolve() };
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  // Objects collected since are kept in the profile: it shows allocation, not what survives.
  await session.post("HeapProfiler.startSampling", { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    async stop(name) {
      const { profile } = await session.post("HeapProfiler.stopSampling");
      mkdirSync(dir, { recursive: true });
      const path = `${dir}/${name.replace(/[^a-z0-9]+/gi, "-")}.heapprofile`;
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
      console.log(`allocation profile:    ${path}`);
    },
  };
}
