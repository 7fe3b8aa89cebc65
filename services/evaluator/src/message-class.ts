import type { FoldInput, RuleBook } from "@runhooks/rules";
import type { KafkaMessage } from "kafkajs";
import type { RunLimits } from "./decode.js";
import { isTick } from "./headers.js";
import { judgeRun, type Judgement } from "./judge.js";
import { ownedRunBytes } from "./part-message.js";

/**
 * What a runs-topic message is: a tick (it only moves time), a dead letter, a run that has not ended,
 * or a run the rules matched or did not (`judgeRun`).
 */
export type MessageClass = { readonly kind: "tick" } | Judgement;

const TICK: MessageClass = Object.freeze({ kind: "tick" });

/** Classifies a message against the rules in force at `time`; never throws (see `judgeRun`). */
export function classifyMessage(
  message: Pick<KafkaMessage, "headers" | "value">,
  limits: RunLimits,
  book: RuleBook,
  time: number,
): MessageClass {
  if (isTick(message.headers)) return TICK;
  return judgeRun(message.value, limits, book, time);
}

/** What the fold makes of a classified message: a matched run joins its windows; anything else only moves time. */
export function foldInputOf(c: MessageClass, offset: number, time: number, value: Buffer | null): FoldInput {
  if (c.kind !== "matched" || value === null) return { kind: "time", offset, time };
  return { kind: "run", offset, time, run: { runId: c.run.id, json: ownedRunBytes(value) }, matches: c.matches };
}
