export { ruleErrorsGroup, startApi } from "./start.js";
export { RELAY_TRANSACTIONAL_ID_PREFIX } from "./relay/outbox-relay.js";
export { RELAY_SCAN_GROUP_PREFIX } from "./relay/tail-scan.js";
export { API_METRICS } from "./metrics.js";
export type { RunningApi, StartApiOptions } from "./start.js";
export { buildApp } from "./http/app.js";
export type { AppOptions } from "./http/app.js";
export { ApiEnv, readApiEnv } from "./env.js";
export { apiOptionsFromEnv } from "./options.js";
