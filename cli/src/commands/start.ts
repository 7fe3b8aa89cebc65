import { parseServices, readInfraEnv, runStartCommand, type InfraEnv } from "@runhooks/infra";
import { CliError, type CliIo } from "../io.js";

/** The stack's configuration from the CLI's environment; an invalid variable is the user's to fix. */
export function infraEnvOf(io: CliIo): InfraEnv {
  try {
    return readInfraEnv({ ...io.env });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * `runhooks start [--only a,b]`: the engine in the foreground (what `npm start` runs). The stack's own
 * failures (a port in use, no Java…) are said as what to do (failure.ts).
 */
export function startCommand(options: { only?: string }, io: CliIo): Promise<number> {
  return runStartCommand(infraEnvOf(io), parseServices(options.only ?? io.env["RUNHOOKS_SERVICES"]), (line) =>
    io.out(`[runhooks] ${line}\n`),
  );
}
