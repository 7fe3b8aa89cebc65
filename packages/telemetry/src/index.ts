export { jsonLogger } from "./log.js";
export type { Level, Logger } from "./log.js";
export { startHttp } from "./http.js";
export type { HttpEndpoints } from "./http.js";
export { stopOnSignals } from "./signals.js";
