import { SCHEMA_VERSION, type WindowPartHead } from "@runhooks/contracts";
import type { ClosedPart } from "./fold.js";

/**
 * A closed part as the WindowPart contract states it, without its runs and their times: the evaluator
 * splices in the runs' bytes as read from the log. Its bounds are the window's, which the webhook
 * payload carries once the assembler has merged the window's parts.
 */
export function windowPartHead(p: ClosedPart): WindowPartHead {
  return {
    schema_version: SCHEMA_VERSION,
    part_id: p.partId,
    rule_id: p.ruleId,
    rule_version: p.ruleVersion,
    tenant_id: p.tenantId,
    max_runs: p.maxRuns,
    runs_partition: p.partition,
    piece: p.piece,
    start_time: new Date(p.startMs).toISOString(),
    end_time: new Date(p.endMs).toISOString(),
  };
}
