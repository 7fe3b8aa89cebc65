import type { TopicMismatch } from "@runhooks/kafka";

/**
 * Which declared settings infra sets on an existing topic that lacks them (DESIGN.md §2): a
 * `max.message.bytes` below the declared one is raised, since a record the topic cannot take stalls
 * whoever writes it (delivery's dead letters keep a whole windows message). Raising it loses nothing.
 * Every other mismatch stays a warning for the operator.
 */
export interface SettingsPlan {
  readonly apply: readonly TopicMismatch[];
  readonly warnings: readonly TopicMismatch[];
}

const RAISED = new Set(["max.message.bytes"]);

export function planSettings(mismatches: readonly TopicMismatch[]): SettingsPlan {
  const apply: TopicMismatch[] = [];
  const warnings: TopicMismatch[] = [];
  for (const m of mismatches) {
    const below = m.actual === "(unset)" || Number(m.actual) < Number(m.expected);
    if (RAISED.has(m.setting) && below) apply.push(m);
    else warnings.push(m);
  }
  return { apply, warnings };
}
