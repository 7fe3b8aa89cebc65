import { RunhooksError } from "@runhooks/errors";

/** Where the CLI writes and what it reads from its environment: real in main.ts, captured in tests. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths resolve against this directory. */
  readonly cwd: string;
  /** Whether stdout / stderr are terminals (progress bars, colour); both false when unset. */
  readonly tty?: { readonly out: boolean; readonly err: boolean };
}

/**
 * `usage`: a wrong flag or argument (exit code 2); `unavailable`: the API or Kafka cannot be reached,
 * so the same command may succeed once they run; `failed`: anything else the user must fix first
 * (the configuration, an input file, what the API refused).
 */
export type CliErrorCode = "usage" | "unavailable" | "failed";

/** An expected failure, said to the user as is: what went wrong and what to do about it. */
export class CliError extends RunhooksError {
  override readonly name = "CliError";
  readonly retriable: boolean;
  constructor(
    message: string,
    readonly code: CliErrorCode = "failed",
  ) {
    super(message);
    this.retriable = code === "unavailable";
  }
}
