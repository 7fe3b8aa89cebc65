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

/** An expected failure, said to the user as is: what went wrong and what to do about it. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
