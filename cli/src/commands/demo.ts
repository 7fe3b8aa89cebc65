import { join } from "node:path";
import { defaultStateDir } from "@runhooks/infra";
import type { CliConfig } from "../config.js";
import { divertServiceLogs } from "../demo/service-logs.js";
import { CliError, type CliIo } from "../io.js";
import { progressOn } from "../progress.js";
import { runDemo } from "../demo/demo.js";
import type { Terminal } from "../terminal.js";
import { infraEnvOf } from "./start.js";

export interface DemoCommandOptions {
  readonly runs: string;
  readonly seed: string;
  readonly rate: string;
  readonly timeout: string;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`--${name} must be a positive whole number, not ${value}`, "usage");
  return n;
}

/** An engine that answers at the API address: the demo would share its consumer groups, so it refuses. */
async function engineAlreadyRunning(apiUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** `runhooks demo`: see runDemo. Prints the summary table on stdout, progress on stderr. */
export async function demoCommand(
  options: DemoCommandOptions,
  config: CliConfig,
  io: CliIo,
  terminal: Terminal,
): Promise<number> {
  const runs = positiveInt("runs", options.runs);
  const seed = positiveInt("seed", options.seed);
  const rate = positiveInt("rate", options.rate);
  const timeoutMs = positiveInt("timeout", options.timeout) * 1000;
  if (await engineAlreadyRunning(config.apiUrl)) {
    throw new CliError(
      `a runhooks engine is already running (its API answers at ${config.apiUrl}); the demo runs its own: ` +
        "stop that one (Ctrl-C where `npm start` runs) and try again",
    );
  }
  const infraEnv = infraEnvOf(io);
  const restore = await divertServiceLogs(join(infraEnv.RUNHOOKS_STATE_DIR ?? defaultStateDir(), "demo.log"));
  const result = await runDemo({
    infraEnv,
    processEnv: { ...io.env },
    runs,
    seed,
    rate,
    drainTimeoutMs: timeoutMs,
    say: (line) => io.err(`[demo] ${line}\n`),
    progress: () => progressOn(io.err, terminal),
  }).finally(restore);
  io.out(`\n${result.table}\n`);
  if (!result.drained) {
    io.err(
      "[demo] not everything was delivered in time; the figures above are partial (a busy machine? try --timeout 180)\n",
    );
    return 1;
  }
  return 0;
}
