// Profiles of this process (the services under test run in the bench's process), for Chrome DevTools
// or speedscope: a V8 CPU profile while `BENCH_CPU_PROFILE=dir` is set, and a sampling allocation
// profile while `BENCH_HEAP_PROFILE=dir` is set (where the garbage comes from: every allocation
// sampled, collected or not). Main thread only: worker threads are not in them.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

export interface Profile {
  stop(name: string): Promise<void>;
}

const NONE: Profile = { stop: () => Promise.resolve() };

async function profile(
  dir: string | undefined,
  extension: string,
  start: (s: Session) => Promise<void>,
  stop: (s: Session) => Promise<object>,
): Promise<Profile> {
  if (dir === undefined || dir === "") return NONE;
  const session = new Session();
  session.connect();
  await start(session);
  return {
    async stop(name) {
      const result = await stop(session);
      mkdirSync(dir, { recursive: true });
      const path = `${dir}/${name.replace(/[^a-z0-9]+/gi, "-")}.${extension}`;
      writeFileSync(path, JSON.stringify(result));
      session.disconnect();
      console.log(`${extension}:`.padEnd(23) + path);
    },
  };
}

export function cpuProfile(dir = process.env["BENCH_CPU_PROFILE"]): Promise<Profile> {
  return profile(
    dir,
    "cpuprofile",
    async (s) => {
      await s.post("Profiler.enable");
      await s.post("Profiler.start");
    },
    async (s) => (await s.post("Profiler.stop")).profile,
  );
}

export function allocationProfile(dir = process.env["BENCH_HEAP_PROFILE"]): Promise<Profile> {
  return profile(
    dir,
    "heapprofile",
    async (s) => {
      await s.post("HeapProfiler.enable");
      await s.post("HeapProfiler.startSampling", {
        samplingInterval: 16384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    },
    async (s) => (await s.post("HeapProfiler.stopSampling")).profile,
  );
}
