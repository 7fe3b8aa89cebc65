import { RULE_ERROR_TEXT_MAX, type RuleError } from "@runhooks/contracts";
import type { WindowSpec } from "@runhooks/rules";
import type { Message } from "kafkajs";

/**
 * The rule errors of one flush: per rule version a count and the first error as its sample, so a
 * poison rule costs the rule-errors topic one record per flush however many runs it fails on. Records
 * come out in the order their rule versions first failed: the same messages give the same records,
 * which keeps a replay's output the same as the first pass's.
 */
export interface RuleErrorBatch {
  add(spec: WindowSpec, runId: string, logTime: number, error: string): void;
  readonly size: number;
  /** The records so far as messages keyed by rule id, and a fresh start. */
  drain(): Message[];
}

export function createRuleErrorBatch(): RuleErrorBatch {
  let byVersion = new Map<string, RuleError>();
  return {
    add(spec, runId, logTime, error) {
      const key = `${spec.ruleId}/${spec.ruleVersion}`;
      const seen = byVersion.get(key);
      if (seen !== undefined) {
        seen.count++;
        return;
      }
      byVersion.set(key, {
        schema_version: 1,
        tenant_id: spec.tenantId,
        rule_id: spec.ruleId,
        rule_version: spec.ruleVersion,
        run_id: runId,
        log_time: new Date(logTime).toISOString(),
        error: error.length > RULE_ERROR_TEXT_MAX ? `${error.slice(0, RULE_ERROR_TEXT_MAX)}…` : error,
        count: 1,
      });
    },
    get size() {
      return byVersion.size;
    },
    drain() {
      const messages = [...byVersion.values()].map((r) => ({ key: r.rule_id, value: JSON.stringify(r) }));
      byVersion = new Map();
      return messages;
    },
  };
}
