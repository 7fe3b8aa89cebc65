import pg, { type ConnectionPool } from "@databases/pg";
import type { SecretKeyring } from "./secret-cipher.js";
import { SecretsError } from "./secret-errors.js";

// @databases/pg is CommonJS; under NodeNext its default import is the module object.
const createConnectionPool = pg.default;

export interface DatabaseOptions {
  readonly url: string;
  readonly poolSize?: number;
  /** Called for errors on idle connections (e.g. the server restarted); never thrown. */
  readonly onError?: (error: Error) => void;
  readonly applicationName?: string;
  /**
   * The keys that seal and open webhook secrets (RUNHOOKS_SECRETS_KEY): needed by whoever reads or
   * writes rules (the API, delivery); absent for the others.
   */
  readonly secrets?: SecretKeyring | undefined;
}

export type Database = ConnectionPool & { readonly secrets?: SecretKeyring | undefined };

/** The handle's keyring; a clear error when it was opened without one. */
export function keyringOf(db: Database): SecretKeyring {
  if (db.secrets === undefined) {
    throw new SecretsError(
      "secrets_key_missing",
      "this database connection has no secrets key: set RUNHOOKS_SECRETS_KEY or RUNHOOKS_SECRETS_KEY_FILE",
    );
  }
  return db.secrets;
}

export function connectDatabase(options: DatabaseOptions): Database {
  const pool = createConnectionPool({
    connectionString: options.url,
    poolSize: options.poolSize ?? 10,
    bigIntMode: "bigint",
    applicationName: options.applicationName ?? "runhooks",
    onError: options.onError ?? (() => undefined),
  });
  return options.secrets === undefined ? pool : Object.assign(pool, { secrets: options.secrets });
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
