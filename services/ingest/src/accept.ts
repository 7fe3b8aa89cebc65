import { lockPendingRuns, savePendingRuns, type Database, type PendingRunState } from "@runhooks/db";
import type { Counters } from "./counters.js";
import { finalizeRun, hasEnded, mergeRun } from "./merge.js";
import { countTenantPending, type PendingQuota } from "./pending-quota.js";
import { KafkaUnavailableError, type RunMessage, type RunSink } from "./producer.js";
import { RequestProjects, type ProjectCache } from "./projects.js";
import { NO_SENT_JSON, runJson, type SentJson } from "./run-json.js";
import type { JsonObject } from "./json-object.js";
import type { Issue, RunOp } from "./run-ops.js";
import { classifyStoreError } from "./store-errors.js";

/**
 * What became of a request's operations. `message` is for the client; `detail` (the underlying
 * error's text) is for the log only.
 */
export type AcceptOutcome =
  | { readonly ok: true; readonly produced: number; readonly pending: number; readonly duplicates: number }
  | {
      readonly ok: false;
      readonly reason: "kafka_unavailable" | "database_unavailable";
      readonly message: string;
      readonly detail: string;
      readonly retriable: true;
    }
  | {
      readonly ok: false;
      readonly reason: "run_too_large";
      readonly issues: readonly Issue[];
      readonly retriable: false;
    }
  | {
      readonly ok: false;
      readonly reason: "pending_full";
      readonly pending: number;
      readonly limit: number;
      readonly retriable: false;
    }
  | {
      readonly ok: false;
      readonly reason: "too_many_projects";
      readonly count: number;
      readonly limit: number;
      readonly retriable: false;
    }
  | {
      readonly ok: false;
      readonly reason: "invalid_data" | "internal";
      readonly detail: string;
      readonly retriable: false;
    };

export interface AcceptDeps {
  readonly db: Database;
  readonly sink: RunSink;
  readonly maxRunBytes: number;
  readonly counters: Counters;
  readonly pendingQuota: PendingQuota;
  readonly projects: ProjectCache;
  /** Projects a tenant may have (RUNHOOKS_INGEST_MAX_PROJECTS_PER_TENANT). */
  readonly maxProjectsPerTenant: number;
}

class PendingFull extends Error {
  constructor(
    readonly pending: number,
    readonly limit: number,
  ) {
    super("pending runs full");
  }
}

class ProjectsFull extends Error {
  constructor(
    readonly count: number,
    readonly limit: number,
  ) {
    super("projects full");
  }
}

class RunTooLarge extends Error {
  constructor(readonly issues: Issue[]) {
    super("run too large");
  }
}

interface RunParts {
  create: JsonObject | null;
  update: JsonObject | null;
  source: string;
}

/** The operations of one request per run, in order: creates merged together, updates merged together. */
function byRun(ops: readonly RunOp[]): Map<string, RunParts> {
  const runs = new Map<string, RunParts>();
  for (const op of ops) {
    const parts = runs.get(op.id) ?? { create: null, update: null, source: op.source };
    if (op.kind === "post") parts.create = mergeRun(parts.create, op.body);
    else parts.update = mergeRun(parts.update, op.body);
    runs.set(op.id, parts);
  }
  return runs;
}

function toMessage(
  run: JsonObject,
  source: string,
  sent: SentJson,
  maxRunBytes: number,
  tooLarge: Issue[],
): RunMessage {
  const value = runJson(run, sent);
  const bytes = Buffer.byteLength(value);
  if (bytes > maxRunBytes) {
    tooLarge.push({
      part: source,
      path: "(run)",
      message: `the run is ${bytes} bytes as JSON; the limit is ${maxRunBytes} (RUNHOOKS_MAX_RUN_BYTES)`,
    });
  }
  // All runs of a trace share a partition (DESIGN §2).
  const key = typeof run["trace_id"] === "string" ? run["trace_id"] : String(run["id"]);
  return { key, value, bytes, runId: String(run["id"]) };
}

/**
 * Stores the operations of one request, all or nothing, and resolves only once everything is durable:
 * complete runs acknowledged by Kafka (acks: all), incomplete ones committed in Postgres.
 *
 * A run whose create already carries its end (or whose create and update arrive together) goes straight
 * to Kafka. Otherwise its parts wait in `ingest_pending`; the request that completes it produces the
 * merged run and marks the row produced in the same transaction, committed only after Kafka's ack — so
 * a run reaches the topic once, unless the process dies between the ack and the commit (the client then
 * retries: at least once). The projects of the produced runs that this process does not know to be
 * recorded are recorded first (in the request's transaction, when it has one): a run's `session_id`
 * always names a project `GET /sessions` answers.
 */
export async function acceptOps(
  deps: AcceptDeps,
  tenantId: string,
  ops: readonly RunOp[],
  sent: SentJson = NO_SENT_JSON,
): Promise<AcceptOutcome> {
  const { counters } = deps;
  const runs = byRun(ops);
  const direct: RunMessage[] = [];
  const pending: [string, RunParts][] = [];
  const tooLarge: Issue[] = [];
  const projects = new RequestProjects(deps.projects, tenantId);
  for (const [id, parts] of runs) {
    const merged = mergeRun(parts.create, parts.update);
    if (parts.create !== null && hasEnded(merged))
      direct.push(
        toMessage(finalizeRun(merged!, projects.resolve(merged!)), parts.source, sent, deps.maxRunBytes, tooLarge),
      );
    else pending.push([id, parts]);
  }
  if (tooLarge.length > 0) return { ok: false, reason: "run_too_large", issues: tooLarge, retriable: false };

  try {
    if (pending.length === 0) {
      if (projects.unknown.size > 0) {
        const recorded = await projects.record(deps.db, deps.maxProjectsPerTenant);
        if (!recorded.ok) throw new ProjectsFull(recorded.count, recorded.limit);
        projects.remember();
      }
      await deps.sink.send(direct);
      counters.runs_produced += direct.length;
      counters.runs_accepted += ops.length;
      return { ok: true, produced: direct.length, pending: 0, duplicates: 0 };
    }
    const result = await deps.db.tx(async (tx) => {
      const rows = await lockPendingRuns(
        tx,
        tenantId,
        pending.map(([id]) => id),
      );
      const states: PendingRunState[] = [];
      const completed: RunMessage[] = [];
      const tooBig: Issue[] = [];
      let duplicates = 0;
      let stored = 0;
      // Incomplete runs this request adds (new rows left incomplete) and completes (held rows produced).
      let added = 0;
      let completedHeld = 0;
      for (const [id, parts] of pending) {
        const row = rows.get(id);
        const held = row !== undefined && (row.created !== null || row.updates !== null);
        if (row?.producedAt) {
          duplicates++;
          states.push({ runId: id, created: null, updates: null, produced: true });
          continue;
        }
        const created = mergeRun(row?.created ?? null, parts.create);
        const updates = mergeRun(row?.updates ?? null, parts.update);
        const merged = mergeRun(created, updates);
        if (created !== null && hasEnded(merged)) {
          completed.push(
            toMessage(finalizeRun(merged!, projects.resolve(merged!)), parts.source, sent, deps.maxRunBytes, tooBig),
          );
          states.push({ runId: id, created: null, updates: null, produced: true });
          if (held) completedHeld++;
        } else {
          stored++;
          if (!held) added++;
          states.push({ runId: id, created, updates, produced: false });
        }
      }
      if (tooBig.length > 0) throw new RunTooLarge(tooBig);
      await savePendingRuns(tx, tenantId, states);
      if (deps.pendingQuota.needsCount(tenantId, added)) {
        // This transaction's rows are counted: `after` is the tenant's count if it commits.
        const after = await countTenantPending(tx, tenantId);
        const before = after - added + completedHeld;
        deps.pendingQuota.set(tenantId, before);
        if (after > deps.pendingQuota.limit) throw new PendingFull(before, deps.pendingQuota.limit);
      }
      if (projects.unknown.size > 0) {
        const recorded = await projects.record(tx, deps.maxProjectsPerTenant);
        if (!recorded.ok) throw new ProjectsFull(recorded.count, recorded.limit);
      }
      // Inside the transaction: the rows say "produced" only if Kafka has the runs.
      await deps.sink.send([...direct, ...completed]);
      return {
        produced: direct.length + completed.length,
        completed: completed.length,
        stored,
        duplicates,
        delta: added - completedHeld,
      };
    });
    projects.remember();
    deps.pendingQuota.apply(tenantId, result.delta);
    counters.runs_produced += result.produced;
    counters.runs_pending_completed += result.completed;
    counters.runs_pending_stored += result.stored;
    counters.runs_duplicate += result.duplicates;
    counters.runs_accepted += ops.length;
    return { ok: true, produced: result.produced, pending: result.stored, duplicates: result.duplicates };
  } catch (error) {
    if (error instanceof RunTooLarge)
      return { ok: false, reason: "run_too_large", issues: error.issues, retriable: false };
    if (error instanceof ProjectsFull)
      return { ok: false, reason: "too_many_projects", count: error.count, limit: error.limit, retriable: false };
    if (error instanceof PendingFull)
      return { ok: false, reason: "pending_full", pending: error.pending, limit: error.limit, retriable: false };
    const detail = String((error as Error)?.message ?? error);
    if (error instanceof KafkaUnavailableError) {
      counters.kafka_unavailable++;
      // The error's code and retriability are the refusal's: answered 503 `kafka_unavailable`.
      return {
        ok: false,
        reason: error.code,
        message: "Kafka did not acknowledge the runs",
        detail,
        retriable: error.retriable,
      };
    }
    const failure = classifyStoreError(error);
    if (failure === "unavailable") {
      counters.database_unavailable++;
      return {
        ok: false,
        reason: "database_unavailable",
        message: "Postgres did not store the incomplete runs",
        detail,
        retriable: true,
      };
    }
    return { ok: false, reason: failure === "data" ? "invalid_data" : "internal", detail, retriable: false };
  }
}
