import { SCHEMA_VERSION, type MatchWindow } from "@runhooks/contracts";
import type { ClosedWindow } from "./fold.js";

/**
 * A closed window as the MatchWindow contract states it, without its runs: the evaluator splices in
 * the runs' bytes as read from the log; a dry run adds the runs it was given. Its bounds are what the
 * webhook payload carries.
 */
export function matchWindowHead(w: ClosedWindow): Omit<MatchWindow, "runs"> {
  return {
    schema_version: SCHEMA_VERSION,
    window_id: w.windowId,
    rule_id: w.ruleId,
    rule_version: w.ruleVersion,
    tenant_id: w.tenantId,
    partition: w.partition,
    chunk: w.chunk,
    start_time: new Date(w.startMs).toISOString(),
    end_time: new Date(w.endMs).toISOString(),
  };
}
