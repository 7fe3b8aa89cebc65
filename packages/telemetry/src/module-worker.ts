import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * Starts a worker thread running the module `name` that sits beside the calling module (`from` is the
 * caller's `import.meta.url`): its compiled `.js` in production, or — when the caller runs from its
 * TypeScript source (tests, `--conditions=source`) — its `.ts` source through tsx's require hook, the one
 * kind of loader hook Node 20 applies inside a worker thread.
 */
export function startModuleWorker(from: string, name: string, workerData: unknown): Worker {
  if (!from.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, from), { workerData });
  const require = createRequire(from);
  const tsx = require.resolve("tsx/cjs/api");
  const source = fileURLToPath(new URL(`./${name}.ts`, from));
  return new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(source)});`, {
    eval: true,
    workerData,
    execArgv: ["--conditions=source"],
  });
}
