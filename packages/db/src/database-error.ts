/**
 * What a failed database operation says about trying it again: `unavailable` when the database could
 * not do it now (no connection, shutting down, out of resources, a conflict between transactions) and
 * the same statement may pass later; `refused` when PostgreSQL answered and turned the statement down
 * (a constraint, a type, a missing object): the same statement fails again, so retrying it unchanged
 * only waits, and the failure is a defect to report, not an outage.
 */
export type DatabaseErrorKind = "unavailable" | "refused";

/** SQLSTATE classes (the code's first two characters) whose errors may pass when tried again. */
const TRANSIENT_CLASSES = new Set([
  "08", // connection exception
  "40", // transaction rollback: serialization failure, deadlock
  "53", // insufficient resources
  "57", // operator intervention: shutdown, query cancelled
  "58", // system error (I/O)
  "HV", // foreign data wrapper: the remote side
]);

/** Single SQLSTATEs outside those classes that are transient. */
const TRANSIENT_CODES = new Set(["55P03" /* lock not available */, "55006" /* object in use */]);

export function databaseErrorKind(error: unknown): DatabaseErrorKind {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  // Errors without a SQLSTATE come from the socket or the pool (ECONNREFUSED, a timeout): unavailable.
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return "unavailable";
  return TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code) ? "unavailable" : "refused";
}
