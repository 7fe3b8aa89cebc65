import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { sql } from "@databases/pg";
import { MigrationError } from "./migration-error.js";
import { MIGRATION_HOOKS } from "./migration-hooks.js";
import type { Database } from "./pool.js";

export { MigrationError };

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export interface MigrationReport {
  readonly applied: readonly Migration[];
  readonly alreadyApplied: number;
}

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
/** Arbitrary constant: serialises concurrent migrators (several services starting at once). */
const MIGRATION_LOCK_KEY = 7_301_994_211;

const migrationsDir = new URL("../migrations/", import.meta.url);

/** Reads `packages/db/migrations/NNN_name.sql`, in version order. */
export async function loadMigrations(dir: URL = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new MigrationError(`migration file ${file} must be named NNN_snake_case.sql`);
    }
    migrations.push({ version: Number(match[1]), name: match[2], sql: await readFile(new URL(file, dir), "utf8") });
  }
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw new MigrationError(`migration version ${migrations[i]!.version} is used twice`);
    }
  }
  return migrations;
}

function checksum(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so concurrent starts
 * are safe. Running it again is a no-op. An applied migration whose file changed is an error: history
 * is append-only, fixes go in a new migration.
 */
export async function migrate(db: Database, migrations?: readonly Migration[]): Promise<MigrationReport> {
  const all = migrations ?? (await loadMigrations());
  // Up to date: nothing to lock or create, so a service's least-privileged role (migration 015) may
  // start once the owner has migrated.
  const exists = (await db.query(sql`SELECT to_regclass('schema_migrations') IS NOT NULL AS e`)) as { e: boolean }[];
  if (exists[0]?.e) {
    const done = (await db.query(sql`SELECT version, checksum FROM schema_migrations`)) as {
      version: number;
      checksum: string;
    }[];
    const applied = new Map(done.map((r) => [r.version, r.checksum]));
    if (all.every((m) => applied.get(m.version) === checksum(m.sql)))
      return { applied: [], alreadyApplied: all.length };
  }
  return db.tx(async (tx) => {
    await tx.query(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(sql`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const rows = (await tx.query(sql`SELECT version, name, checksum FROM schema_migrations`)) as {
      version: number;
      name: string;
      checksum: string;
    }[];
    const applied = new Map(rows.map((r) => [r.version, r]));
    const pending: Migration[] = [];
    for (const m of all) {
      const done = applied.get(m.version);
      if (!done) {
        pending.push(m);
      } else if (done.checksum !== checksum(m.sql)) {
        throw new MigrationError(
          `migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`,
        );
      }
    }
    // One transaction for the lock and every pending migration: a failure leaves the schema as it was.
    for (const m of pending) {
      // A migration file is trusted SQL from this repository, possibly several statements.
      await tx.query(sql.__dangerous__rawValue(m.sql));
      // What SQL cannot do (sealing secrets under the application's key), with the handle's keys.
      await MIGRATION_HOOKS.get(m.version)?.(tx, db.secrets);
      await tx.query(
        sql`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${checksum(m.sql)})`,
      );
    }
    return { applied: pending, alreadyApplied: all.length - pending.length };
  });
}
