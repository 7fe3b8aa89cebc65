import { RunhooksError } from "@runhooks/errors";

export type InfraErrorCode =
  | "port_in_use"
  | "java_missing"
  | "java_too_old"
  | "maven_missing"
  | "kafka_fetch_failed"
  | "kafka_format_failed"
  | "kafka_start_failed"
  | "postgres_start_failed"
  | "windows_partitions_fixed";

/**
 * A local-stack failure the user can act on. The message says what happened and what to do; none of
 * these is retriable without a change on the user's side.
 */
export class InfraError extends RunhooksError {
  override readonly name = "InfraError";
  readonly retriable = false;
  constructor(
    readonly code: InfraErrorCode,
    message: string,
  ) {
    super(message);
  }
}
