export { connectDatabase, keyringOf, redactDatabaseUrl } from "./pool.js";
export {
  SEALED_PREFIX,
  generateSecretKey,
  isSealed,
  keyIdOf,
  openSecret,
  parseSecretKeys,
  sealSecret,
  sealedKeyId,
} from "./secret-cipher.js";
export type { KeyParse, OpenResult, SecretKey, SecretKeyring } from "./secret-cipher.js";
export { SecretsError } from "./secret-errors.js";
export { countPlaintextRows, resealAll, resealBatch } from "./secret-reseal.js";
export type { ResealBatch, ResealProgress, ResealTable } from "./secret-reseal.js";
export { purgeDeletedRules, purgeHistoryBatch, purgeHistorySecrets } from "./secret-purge.js";
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
export { currentRuleVersions, getRule, listRules, ruleHistory, webhooksOfRuleVersion } from "./rule-reads.js";
export { ruleOwners, type RuleOwner } from "./rule-owners.js";
export {
  disabledWebhooks,
  enableWebhook,
  lockWebhookHealth,
  saveWebhookHealth,
  webhookHealthOf,
  webhookHealthOfRule,
} from "./webhook-health.js";
export type { WebhookHealthRecord, WebhookKey, WebhookStateValue } from "./webhook-health.js";
export { endUnsent } from "./delivery-unsent.js";
export { endTestSend, queueTestSend, testSendAttempt } from "./test-send.js";
export type { TestSendInput } from "./test-send.js";
export type { UnsentDelivery, UnsentReason } from "./delivery-unsent.js";
export { recoverDeliveries, MAX_RECOVER_PER_CALL } from "./delivery-recovery.js";
export type { RecoverFilter, RecoverResult } from "./delivery-recovery.js";
export { decideRuleCount, decideVersionRate, VERSION_RATE_WINDOW_MS } from "./rule-quotas.js";
export type { QuotaRefusal, RuleQuotas } from "./rule-quotas.js";
export { resolveWebhooks } from "./webhook-resolution.js";
export type { PreviousSigningSecret } from "./webhook-resolution.js";
export { planRotation, rotateSigningSecret, type RotateResult, type RotationPlan } from "./secret-rotation.js";
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
export { databaseErrorKind } from "./database-error.js";
export type { DatabaseErrorKind } from "./database-error.js";
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
export {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  projectNames,
  recordProjects,
  updateProject,
} from "./projects.js";
export type {
  CreateProjectResult,
  NewProject,
  ProjectChanges,
  Project,
  ProjectFilter,
  ProjectRef,
  ProjectsOutcome,
} from "./projects.js";
export { requireSecretsKeyring, secretsKeyringFromEnv } from "./secret-keys-env.js";
export type { SecretsKeyEnv, SecretsKeyResult } from "./secret-keys-env.js";
export { deleteDeliveryRecords, deleteEmptyWindows, deleteWindowBodies } from "./retention.js";
export {
  cancelBackfill,
  claimBackfill,
  createBackfill,
  finishBackfill,
  getBackfill,
  latestBackfills,
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
