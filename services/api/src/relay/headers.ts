import type { IHeaders } from "kafkajs";

/** Headers the relay puts on every rules-topic message it publishes. */
export const HEADER_KIND = "runhooks-kind";
export const HEADER_OUTBOX_ID = "runhooks-outbox-id";
export const HEADER_OUTBOX_STREAM = "runhooks-outbox-stream";
export const HEADER_RULE_VERSION = "runhooks-rule-version";

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === "string" ? first : first.toString("utf8");
}
