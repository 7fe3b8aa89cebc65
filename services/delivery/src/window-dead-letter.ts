import { SCHEMA_VERSION, type WindowDeadLetter, type WindowDeadLetterReason } from "@runhooks/contracts";
import type { RuleOwner } from "@runhooks/db";
import { bundledPartValue, type InvalidMessage, type PartInput, type WatermarkInput } from "./window-batch.js";
import type { BundledPart } from "./part-message.js";
import { judgePart, type PartClaim } from "./window-trust.js";

/**
 * Which messages of a windows batch go to `runhooks.windows.dlq`, and the message each becomes. Pure:
 * the batch's decoded inputs and invalid messages, and the owners of the rules its parts name, in;
 * the inputs to fold and the dead letters out.
 */

/**
 * A message refused — or a part of a bundle, alone — its offset, why, and what it claimed when it could
 * be read. `part`: a bundle's part refused, kept as the WindowPart message it stands for (or what can
 * be rebuilt of an invalid entry), keyed by the part's rule id as a single part is (the message's key
 * when unreadable); undefined: the message is kept as it is.
 */
export interface Refused {
  readonly offset: string;
  readonly reason: WindowDeadLetterReason;
  readonly error: string;
  readonly claim: PartClaim | undefined;
  readonly part?: { readonly key: string | undefined; readonly value: Buffer } | undefined;
}

export interface Screened {
  /** The watermarks, and the parts that check out: what is folded. */
  readonly inputs: (PartInput | WatermarkInput)[];
  readonly refused: Refused[];
}

/**
 * Splits a batch's inputs into those folded and those refused; the invalid messages are refused too. A
 * bundle's parts are judged one by one: a refused one goes alone (`bundled` gives what it stands for).
 */
export function screenInputs(
  inputs: readonly (PartInput | WatermarkInput)[],
  invalid: readonly InvalidMessage[],
  owners: ReadonlyMap<string, RuleOwner>,
  bundled: ReadonlyMap<PartInput, BundledPart> = new Map(),
): Screened {
  const kept: (PartInput | WatermarkInput)[] = [];
  const refused: Refused[] = invalid.map((m) => ({ ...m, reason: "invalid", claim: undefined }));
  for (const input of inputs) {
    if (input.kind === "watermark") {
      kept.push(input);
      continue;
    }
    const verdict = judgePart(input, owners.get(input.ruleId));
    if (verdict.ok) {
      kept.push(input);
      continue;
    }
    const of = bundled.get(input);
    refused.push({
      offset: String(input.offset),
      reason: verdict.reason,
      error: verdict.error,
      claim: { tenantId: input.tenantId, ruleId: input.ruleId, ruleVersion: input.ruleVersion },
      part: of === undefined ? undefined : { key: input.ruleId, value: bundledPartValue(of) },
    });
  }
  // Stable: a bundle's refused parts stay in its order.
  refused.sort((a, b) => Number(a.offset) - Number(b.offset));
  return { inputs: kept, refused };
}

/**
 * At most this many characters of a refusal's error are kept: an invalid message's issues are listed
 * whole, and a dead letter must stay within `runhooks.windows.dlq`'s `max.message.bytes` (topics.ts).
 */
export const DEAD_LETTER_ERROR_CHARS = 4096;

/** The dead letter of a refused message, its original bytes kept. */
export function deadLetter(
  refused: Refused,
  original: Buffer | null,
  where: { readonly topic: string; readonly partition: number },
  now: Date,
): WindowDeadLetter {
  return {
    schema_version: SCHEMA_VERSION,
    reason: refused.reason,
    error:
      refused.error.length > DEAD_LETTER_ERROR_CHARS
        ? `${refused.error.slice(0, DEAD_LETTER_ERROR_CHARS)}…`
        : refused.error,
    tenant_id: refused.claim?.tenantId ?? null,
    rule_id: refused.claim?.ruleId ?? null,
    rule_version: refused.claim?.ruleVersion ?? null,
    original: (original ?? Buffer.alloc(0)).toString("base64"),
    topic: where.topic,
    partition: where.partition,
    offset: refused.offset,
    dead_lettered_at: now.toISOString(),
  };
}

/**
 * Bytes of dead letters (their values, uncompressed) one send holds at most: kafkajs writes a send's
 * messages for one partition as one record batch, which the broker refuses over the topic's
 * `max.message.bytes`. A dead letter bigger than this goes alone (the topic takes the largest).
 */
export const DEAD_LETTER_SEND_BYTES = 900 * 1024;

/** Dead letters split into sends of at most `budget` bytes of values, in order. */
export function deadLetterSends<M extends { readonly value: string | Buffer | null }>(
  messages: readonly M[],
  budget = DEAD_LETTER_SEND_BYTES,
): M[][] {
  const sends: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value === null ? 0 : Buffer.byteLength(m.value);
    if (current.length > 0 && bytes + size > budget) {
      sends.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) sends.push(current);
  return sends;
}
