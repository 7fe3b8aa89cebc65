import { RunhooksError } from "@runhooks/errors";

/** Thrown when the database and the code disagree about history: never safe to retry blindly. */
export class MigrationError extends RunhooksError {
  readonly code = "invalid_migrations";
  readonly retriable = false;
  override readonly name = "MigrationError";
}
