export { connectDatabase, redactDatabaseUrl } from "./pool.js";
export type { Database, DatabaseOptions } from "./pool.js";
export { loadMigrations, migrate, MigrationError } from "./migrate.js";
export type { Migration, MigrationReport } from "./migrate.js";
export { sql } from "@databases/pg";
export { pgArray } from "./pg-array.js";
export type { Queryable, SQLQuery, Transaction } from "@databases/pg";
export { deleteRule, saveRule } from "./rule-store.js";
export type {
  DeleteRuleInput,
  DeleteRuleResult,
  SaveMode,
  SaveOutcome,
  SaveRuleInput,
  SaveRuleResult,
} from "./rule-store.js";
export { canonicalJson, toRuleVersion } from "./rule-records.js";
export type { RuleEventRecord, RuleRecord, StoredRule } from "./rule-records.js";
export { getRule, listRules, ruleHistory, webhooksOfRuleVersion } from "./rule-reads.js";
export { decideRuleCount, decideVersionRate, VERSION_RATE_WINDOW_MS } from "./rule-quotas.js";
export type { QuotaRefusal, RuleQuotas } from "./rule-quotas.js";
export { resolveWebhooks } from "./webhook-resolution.js";
export type { StoredWebhook, WebhookResolution } from "./webhook-resolution.js";
export {
  OUTBOX_CHANNEL,
  countPendingOutbox,
  lastSentOffset,
  markOutboxSent,
  outboxStreamId,
  pendingOutbox,
} from "./outbox.js";
export type { OutboxEntry, OutboxReceipt } from "./outbox.js";
export {
  API_KEY_PREFIX,
  authenticateApiKey,
  createApiKey,
  createTenant,
  generateApiKey,
  getTenant,
  hashApiKey,
  revokeApiKey,
} from "./tenants.js";
export type { ApiKeyPrincipal, CreateTenantResult, CreatedApiKey, Tenant } from "./tenants.js";
export { claimDeliveries } from "./delivery-claim.js";
export type { ClaimOptions, ClaimResult, ClaimedDelivery } from "./delivery-claim.js";
export { markAttemptsPublished, recordAttempts } from "./delivery-attempts.js";
export type { AttemptRecord, FinishedAttempt, RecordedAttempt } from "./delivery-attempts.js";
export { releaseClaims, renewLeases } from "./delivery-leases.js";
export { INTERRUPTED_ATTEMPT_ERROR, publishStragglers, reapExpiredLeases } from "./delivery-reaper.js";
export type { UnpublishedAttempt } from "./delivery-reaper.js";
export { storeWindows, windowPayloads } from "./delivery-store.js";
export type { NewDelivery, NewWindow, StoreClaim, StoredPayload, StoreWindowsResult } from "./delivery-store.js";
export type { DeliveryStatusValue, TriggerValue } from "./delivery-types.js";
export {
  INSTANCE_LOCK_NAMESPACE,
  claimantsSnapshot,
  holdsInstanceLockQuery,
  reapDeadInstanceClaims,
  tryInstanceLockQuery,
} from "./instance-liveness.js";
export type { Claimant, ClaimantsSnapshot } from "./instance-liveness.js";
export { getDelivery, listDeliveries, redeliver, replayRule } from "./delivery-queries.js";
export type { DeliveryFilter, DeliveryRecord, RedeliverResult, ReplayResult } from "./delivery-queries.js";
export { countPendingRuns, expirePendingRuns, lockPendingRuns, savePendingRuns } from "./ingest-pending.js";
export type { ExpiredPendingRuns, PendingRun, PendingRunState } from "./ingest-pending.js";
export { recordRuleErrors, ruleErrorSummary } from "./rule-errors.js";
export type { RuleErrorSample, RuleErrorSummary, RuleErrorVersionCount } from "./rule-errors.js";
export { createProject, getProject, listProjects, projectNames, recordProjects } from "./projects.js";
export type {
  CreateProjectResult,
  NewProject,
  Project,
  ProjectFilter,
  ProjectRef,
  ProjectsOutcome,
} from "./projects.js";
export {
  cancelBackfill,
  claimBackfill,
  createBackfill,
  finishBackfill,
  getBackfill,
  listBackfills,
  recordBackfillProgress,
  renewBackfillLease,
  ruleVersionEffectiveFrom,
  setBackfillRange,
} from "./backfills.js";
export type {
  BackfillLease,
  BackfillOffsets,
  BackfillProgress,
  BackfillRecord,
  BackfillState,
  CancelBackfillResult,
  CreateBackfillResult,
  NewBackfill,
} from "./backfills.js";
