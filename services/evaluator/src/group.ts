import { legacyGroup, prefixedGroup, resolveGroupId, type GroupIdChoice } from "@runhooks/kafka";
import type { Admin } from "kafkajs";

export const EVALUATOR_GROUP_VARIABLE = "RUNHOOKS_EVALUATOR_GROUP";

/** The evaluators' group under the default prefix (`runhooks-evaluator`). */
export const DEFAULT_EVALUATOR_GROUP = legacyGroup("evaluator");

/** The evaluators' group when RUNHOOKS_EVALUATOR_GROUP is unset: `<prefix>-evaluator`. */
export function evaluatorGroup(topicPrefix: string): string {
  return prefixedGroup(topicPrefix, "evaluator");
}

export interface EvaluatorGroupSettings {
  /** RUNHOOKS_EVALUATOR_GROUP; undefined when unset. */
  readonly configured: string | undefined;
  readonly topicPrefix: string;
  readonly runsTopic: string;
  /** Where an unset variable's checkpoints may be instead (default DEFAULT_EVALUATOR_GROUP; tests name their own). */
  readonly legacy?: string;
}

/**
 * The live evaluators' group, as the evaluator joins it and a backfill reads its lag: the variable;
 * unset, `<prefix>-evaluator`, or `runhooks-evaluator` while only that group holds checkpoints of the
 * runs topic (the choice's warning says so).
 */
export function resolveEvaluatorGroup(admin: Admin, s: EvaluatorGroupSettings): Promise<GroupIdChoice> {
  return resolveGroupId(admin, {
    variable: EVALUATOR_GROUP_VARIABLE,
    configured: s.configured,
    derived: evaluatorGroup(s.topicPrefix),
    legacy: s.legacy ?? DEFAULT_EVALUATOR_GROUP,
    topic: s.runsTopic,
  });
}
