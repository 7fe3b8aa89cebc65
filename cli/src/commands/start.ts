import { InfraError, UsageError, parseServices, readInfraEnv, runStartCommand, type InfraEnv } from "@runhooks/infra";
import { CliError, type CliIo } from "../io.js";

/** The stack's configuration from the CLI's environment; an invalid variable is the user's to fix. */
export function infraEnvOf(io: CliIo): InfraEnv {
  try {
    return readInfraEnv({ ...io.env });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

/** Turns the stack's own failures (a port in use, no Java…) into what to do. */
export async function infraErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UsageError) throw new CliError(error.message, 2);
    if (error instanceof InfraError) throw new CliError(`${error.code}: ${error.message}`);
    throw error;
  }
}

/** `runhooks start [--only a,b]`: the engine in the foreground (what `npm start` runs). */
export function startCommand(options: { only?: string }, io: CliIo): Promise<number> {
  return infraErrors(() =>
    runStartCommand(infraEnvOf(io), parseServices(options.only ?? io.env["RUNHOOKS_SERVICES"]), (line) => io.out(`[runhooks] ${line}\n`)),
  );
}
