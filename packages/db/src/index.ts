export { connectDatabase, redactDatabaseUrl } from "./pool.js";
export type { Database, DatabaseOptions } from "./pool.js";
export { loadMigrations, migrate, MigrationError } from "./migrate.js";
export type { Migration, MigrationReport } from "./migrate.js";
export { sql } from "@databases/pg";
export { pgArray } from "./pg-array.js";
export type { SQLQuery, Transaction } from "@databases/pg";
export {
  canonicalJson,
  deleteRule,
  getRule,
  listRules,
  ruleHistory,
  saveRule,
  toRuleVersion,
  webhooksOfRuleVersion,
} from "./rule-store.js";
export type {
  DeleteRuleInput,
  DeleteRuleResult,
  RuleEventRecord,
  RuleRecord,
  SaveMode,
  SaveOutcome,
  SaveRuleInput,
  SaveRuleResult,
  StoredRule,
} from "./rule-store.js";
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
export {
  INTERRUPTED_ATTEMPT_ERROR,
  claimDeliveries,
  markAttemptsPublished,
  publishStragglers,
  reapExpiredLeases,
  recordAttempts,
  releaseClaims,
  renewLeases,
  storeWindows,
  windowPayloads,
} from "./deliveries.js";
export type {
  ClaimOptions,
  ClaimResult,
  ClaimedDelivery,
  DeliveryStatusValue,
  AttemptRecord,
  FinishedAttempt,
  NewDelivery,
  NewWindow,
  RecordedAttempt,
  StoreClaim,
  StoreWindowsResult,
  TriggerValue,
  UnpublishedAttempt,
} from "./deliveries.js";
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
