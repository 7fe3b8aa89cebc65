import { RunhooksError } from "@runhooks/errors";

/**
 * A stored secret could not be read (its key is not configured, or the value was altered), or the
 * database handle was opened without a key. Never retriable: the configuration must change first.
 * The message names the key id and where the value sits, never the value.
 */
export class SecretsError extends RunhooksError {
  readonly retriable = false;
  override readonly name = "SecretsError";
  constructor(
    readonly code: "secrets_key_missing" | "secret_unreadable",
    message: string,
  ) {
    super(message);
  }
}
