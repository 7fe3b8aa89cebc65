export { startApi } from "./start.js";
export { API_METRICS } from "./metrics.js";
export type { RunningApi, StartApiOptions } from "./start.js";
export { buildApp } from "./http/app.js";
export type { AppOptions } from "./http/app.js";
export { ApiEnv, readApiEnv } from "./env.js";
export { apiOptionsFromEnv } from "./options.js";
