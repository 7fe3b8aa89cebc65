import { randomBytes } from "node:crypto";

/**
 * A Kafka cluster id: 16 random bytes in URL-safe base64 (22 characters).
 *
 * Invariant: the id never starts with "-". kafka-storage's argument parser reads
 * `-t -AbC…` as a missing value followed by an unknown option, so one id in 64
 * failed the format step (a fresh-clone CI run hit it). Kafka's own
 * Uuid.randomUuid draws again in the same case.
 */
export function clusterId(draw: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = draw().toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}
