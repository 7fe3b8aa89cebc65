/**
 * The base of every error runhooks throws on purpose. Two fields are its contract with the code that
 * catches it:
 * - `code`: stable, snake_case, machine-read; each subclass narrows it to its own literal union. Where
 *   an error is answered over HTTP, its code is the `error` field of the answer.
 * - `retriable`: whether the same operation, tried again unchanged, may succeed (a dependency did not
 *   answer, a rate was exceeded); false when something must change first (the input, the
 *   configuration, the installation).
 * The message says what happened and what to do about it.
 */
export abstract class RunhooksError extends Error {
  abstract readonly code: string;
  abstract readonly retriable: boolean;
}

/**
 * Whether `error` says a retry may succeed: its own `retriable` field is true. kafkajs' errors carry
 * the same field with the same meaning, so this reads them too; anything else is not retriable.
 */
export function isRetriable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/** The code of a runhooks error; undefined for any other (Node's and drivers' codes are theirs). */
export function errorCode(error: unknown): string | undefined {
  return error instanceof RunhooksError ? error.code : undefined;
}

/**
 * A command line's exit code for a failure: 2 for a usage error (code `usage`: a wrong command, flag
 * or argument, whichever command line throws it), 1 for any other.
 */
export function exitCodeOf(error: unknown): 1 | 2 {
  return errorCode(error) === "usage" ? 2 : 1;
}
