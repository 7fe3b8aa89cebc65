export { connectDatabase, redactDatabaseUrl } from "./pool.js";
export type { Database, DatabaseOptions } from "./pool.js";
export { loadMigrations, migrate, MigrationError } from "./migrate.js";
export type { Migration, MigrationReport } from "./migrate.js";
export { sql } from "@databases/pg";
export type { SQLQuery, Transaction } from "@databases/pg";
