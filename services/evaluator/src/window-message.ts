import type { ClosedWindow } from "@runhooks/rules";

/**
 * A closed window as its `runhooks.windows` message (the MatchWindow contract). The runs are spliced
 * in as the exact JSON read from the runs topic: no re-serialisation, and unknown fields pass through.
 */
export function windowMessageValue(w: ClosedWindow): string {
  const head = JSON.stringify({
    schema_version: 1,
    window_id: w.windowId,
    rule_id: w.ruleId,
    rule_version: w.ruleVersion,
    tenant_id: w.tenantId,
    partition: w.partition,
    chunk: w.chunk,
    start_time: new Date(w.startMs).toISOString(),
    end_time: new Date(w.endMs).toISOString(),
  });
  return `${head.slice(0, -1)},"runs":[${w.runs.map((r) => r.json).join(",")}]}`;
}
