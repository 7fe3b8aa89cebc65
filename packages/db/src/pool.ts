import pg, { type ConnectionPool } from "@databases/pg";

// @databases/pg is CommonJS; under NodeNext its default import is the module object.
const createConnectionPool = pg.default;

export interface DatabaseOptions {
  readonly url: string;
  readonly poolSize?: number;
  /** Called for errors on idle connections (e.g. the server restarted); never thrown. */
  readonly onError?: (error: Error) => void;
  readonly applicationName?: string;
}

export type Database = ConnectionPool;

export function connectDatabase(options: DatabaseOptions): Database {
  return createConnectionPool({
    connectionString: options.url,
    poolSize: options.poolSize ?? 10,
    bigIntMode: "bigint",
    applicationName: options.applicationName ?? "runhooks",
    onError: options.onError ?? (() => undefined),
  });
}

/** `postgres://user:***@host:port/db` — URLs are printed, passwords never are. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
