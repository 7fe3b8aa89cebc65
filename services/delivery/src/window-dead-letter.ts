import { SCHEMA_VERSION, type WindowDeadLetter, type WindowDeadLetterReason } from "@runhooks/contracts";
import type { RuleOwner } from "@runhooks/db";
import { bundledPartValue, type PartInput, type WatermarkInput } from "./window-batch.js";
import type { BundledPart } from "./part-message.js";
import { judgePart, type PartClaim } from "./window-trust.js";

/**
 * Which messages of a windows batch go to `runhooks.windows.dlq`, and the message each becomes. Pure:
 * the batch's decoded inputs and invalid messages, and the owners of the rules its parts name, in;
 * the inputs to fold and the dead letters out.
 */

/**
 * A message refused — or a part of a bundle, alone — its offset, why, and what it claimed when it could
 * be read. `part`: a bundle's part refused, kept as the WindowPart message it stands for (its key the
 * part's rule id, as a single part's); undefined: the message is kept as it is.
 */
export interface Refused {
  readonly offset: string;
  readonly reason: WindowDeadLetterReason;
  readonly error: string;
  readonly claim: PartClaim | undefined;
  readonly part?: { readonly key: string; readonly value: Buffer } | undefined;
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
  invalid: readonly { readonly offset: string; readonly error: string }[],
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
    error: refused.error,
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
