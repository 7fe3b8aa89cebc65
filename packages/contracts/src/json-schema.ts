import { z } from "zod";
import { DeadLetter } from "./dead-letter.js";
import { DeliveryAttempt } from "./delivery.js";
import { OperationalEvent } from "./operational-event.js";
import { Rule, RuleEvent, RuleVersion } from "./rule.js";
import { RuleError } from "./rule-error.js";
import { Run, Tick } from "./run.js";
import { MatchWindow, WebhookPayload } from "./window.js";
import { WindowDeadLetter } from "./window-dead-letter.js";
import { RunsWatermark, WindowPart } from "./window-part.js";

/** Every published contract, by the name its JSON Schema file carries. */
export const contracts = {
  Run,
  Tick,
  Rule,
  RuleVersion,
  RuleEvent,
  MatchWindow,
  WebhookPayload,
  WindowPart,
  RunsWatermark,
  DeliveryAttempt,
  OperationalEvent,
  DeadLetter,
  WindowDeadLetter,
  RuleError,
} as const;

export type ContractName = keyof typeof contracts;

/** JSON Schema (draft 2020-12) of each contract, describing the input a producer may send. */
export function contractJsonSchemas(): Record<ContractName, Record<string, unknown>> {
  const out = {} as Record<ContractName, Record<string, unknown>>;
  for (const name of Object.keys(contracts) as ContractName[]) {
    out[name] = {
      $id: `https://runhooks.dev/schemas/${name}.json`,
      title: name,
      ...z.toJSONSchema(contracts[name], { io: "input", unrepresentable: "any" }),
    };
  }
  return out;
}
