import type { BackfillRecord } from "@runhooks/db";
import { backfillEtaSeconds } from "@runhooks/rules";

/** A backfill as the API shows it: state, progress (runs read of the total, windows sent), time left. */
export function backfillView(b: BackfillRecord, nowMs: number) {
  const running = b.state === "running" && b.startedAt !== null;
  return {
    id: b.id,
    rule_id: b.ruleId,
    rule_version: b.ruleVersion,
    from: b.from.toISOString(),
    to: b.to?.toISOString() ?? null,
    state: b.state,
    runs_read: b.runsRead,
    runs_total: b.runsTotal,
    windows_sent: b.windowsSent,
    eta_seconds: running
      ? (backfillEtaSeconds(b.runsRead, b.runsTotal, nowMs - (b.startedAt?.getTime() ?? nowMs)) ?? null)
      : null,
    error: b.error,
    created_at: b.createdAt.toISOString(),
    started_at: b.startedAt?.toISOString() ?? null,
    finished_at: b.finishedAt?.toISOString() ?? null,
  };
}
export type BackfillView = ReturnType<typeof backfillView>;
