import { RuleVersion, describeIssues, isParsedRuleVersion, toFieldIssues } from "@runhooks/contracts";
import type { RuleVersionMessage } from "@runhooks/rules";
import type { IHeaders } from "kafkajs";
import { RULES_TICK_KEY, isTick } from "./headers.js";

/** What one message of the rules topic is to the rule book. */
export type RuleMessage =
  | { readonly kind: "tick" }
  | { readonly kind: "version"; readonly message: RuleVersionMessage }
  /** A value that is not a rule version: logged and counted, the book unchanged. */
  | { readonly kind: "unreadable"; readonly ruleId: string; readonly error: string };

/**
 * Decodes one message of the rules topic: a tick, a rule version (keyed by its rule id, in force from
 * `time`, its append time), a tombstone (an empty value), or a value the book cannot read. The fast
 * check (`isParsedRuleVersion`) takes the versions the API writes; the schema decides the rest and
 * names what is wrong.
 */
export function decodeRuleMessage(
  key: Buffer | null,
  value: Buffer | null,
  headers: IHeaders | undefined,
  time: number,
): RuleMessage {
  const ruleId = key?.toString() ?? "";
  if (isTick(headers) || ruleId === RULES_TICK_KEY) return { kind: "tick" };
  if (value === null || value.length === 0)
    return { kind: "version", message: { ruleId, rule: null, effectiveFrom: time } };
  const json = parseJson(value.toString());
  if (isParsedRuleVersion(json)) return { kind: "version", message: { ruleId, rule: json, effectiveFrom: time } };
  const parsed = RuleVersion.safeParse(json);
  if (!parsed.success) return { kind: "unreadable", ruleId, error: describeIssues(toFieldIssues(parsed.error)) };
  return { kind: "version", message: { ruleId, rule: parsed.data, effectiveFrom: time } };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
