import { exitCodeOf } from "@runhooks/errors";
import { InfraError, UsageError } from "@runhooks/infra";
import { CommanderError } from "commander";
import { CliError } from "./io.js";

/** What the CLI writes to stderr and the exit code it returns when a command throws. */
export interface Failure {
  readonly exitCode: number;
  /** Empty when commander has already said what it had to (a wrong flag, --help, --version). */
  readonly text: string;
}

/**
 * The CLI's own errors and the stack's are said as they are (their messages say what to do), the
 * stack's with their code, which docs/troubleshooting.md names; the error's code decides the exit
 * code (2 for a usage error). Anything else is unexpected: said with its stack.
 */
export function failureOf(error: unknown): Failure {
  // --help and --version end here too, with exit code 0.
  if (error instanceof CommanderError) return { exitCode: error.exitCode, text: "" };
  if (error instanceof CliError || error instanceof UsageError)
    return { exitCode: exitCodeOf(error), text: `runhooks: ${error.message}\n` };
  if (error instanceof InfraError)
    return { exitCode: exitCodeOf(error), text: `runhooks: ${error.code}: ${error.message}\n` };
  return {
    exitCode: 1,
    text: `runhooks: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  };
}
