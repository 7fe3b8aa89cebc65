/** `service.version` of the backfill service's telemetry; kept in step with package.json by hand. */
export const VERSION = "0.1.0";
