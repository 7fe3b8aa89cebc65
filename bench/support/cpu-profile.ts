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
