/**
 * Why Postgres refused a write, from its error: the store being unavailable (retry later: 503) or the
 * data (retrying cannot help: 400). Pure: reads the SQLSTATE (`code`) and Node's socket error codes.
 */
export type StoreFailure = "unavailable" | "data" | "internal";

/**
 * SQLSTATE classes (first two characters): 08 connection, 40 rollback (serialization, deadlock),
 * 53 insufficient resources, 55 object not in prerequisite state (lock not available), 57 operator
 * intervention (shutdown, cancel, statement timeout), 58 system error, XX internal.
 */
const UNAVAILABLE_CLASSES = new Set(["08", "40", "53", "55", "57", "58", "XX"]);
/** 22 data exception (e.g. `\u0000` in jsonb, a value out of range), 23 integrity, 54 program limit. */
const DATA_CLASSES = new Set(["22", "23", "54"]);
/** Node's socket and DNS errors: no connection to the store. */
const NETWORK = /^(E[A-Z]+|ERR_SOCKET_[A-Z_]+)$/;

export function classifyStoreError(error: unknown): StoreFailure {
  if (typeof error !== "object" || error === null) return "internal";
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const cls = code.slice(0, 2);
      if (UNAVAILABLE_CLASSES.has(cls)) return "unavailable";
      if (DATA_CLASSES.has(cls)) return "data";
      return "internal";
    }
    if (NETWORK.test(code)) return "unavailable";
  }
  const raw = (error as { message?: unknown }).message;
  const message = typeof raw === "string" ? raw : "";
  // The driver's own words when the connection goes away mid-query, or the pool cannot get one.
  if (/connection (terminated|ended|closed)|timeout|timed out|Client has encountered a connection error/i.test(message))
    return "unavailable";
  return "internal";
}
