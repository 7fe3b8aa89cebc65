import { afterEach, describe, expect, it } from "vitest";
import { MigrationError, connectDatabase, loadMigrations, migrate, sql } from "@runhooks/db";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

describe("migrations on a real database", () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it("applies every migration once; a second run changes nothing", async () => {
    database = await createTestDatabase("migrate_twice");
    const all = await loadMigrations();
    expect(all.length).toBeGreaterThan(0);

    const first = await migrate(database.db);
    expect(first.applied.map((m) => m.version)).toEqual(all.map((m) => m.version));
    expect(first.alreadyApplied).toBe(0);

    const second = await migrate(database.db);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toBe(all.length);

    const rows = await database.db.query(sql`SELECT version FROM schema_migrations ORDER BY version`);
    expect(rows.map((r: { version: number }) => r.version)).toEqual(all.map((m) => m.version));
    const tables = await database.db.query(
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('tenants', 'api_keys')`,
    );
    expect(tables).toHaveLength(2);
  });

  it("serialises services that migrate the same database at the same moment", async () => {
    database = await createTestDatabase("migrate_race");
    const pools = [0, 1, 2].map(() => connectDatabase({ url: database!.url, poolSize: 1 }));
    try {
      const reports = await Promise.all(pools.map((p) => migrate(p)));
      const appliedCounts = reports.map((r) => r.applied.length).sort();
      const total = (await loadMigrations()).length;
      expect(appliedCounts).toEqual([0, 0, total]);
    } finally {
      await Promise.all(pools.map((p) => p.dispose()));
    }
  });

  it("refuses to run when an applied migration was edited, and applies nothing", async () => {
    database = await createTestDatabase("migrate_edit");
    const all = await loadMigrations();
    await migrate(database.db, all);
    const edited = all.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    const added = [...edited, { version: 999, name: "later", sql: "CREATE TABLE later (id int)" }];
    await expect(migrate(database.db, added)).rejects.toBeInstanceOf(MigrationError);
    const later = (await database.db.query(sql`SELECT to_regclass('public.later') AS t`)) as { t: unknown }[];
    expect(later[0]?.t).toBeNull();
  });

  it("rolls back a failing migration completely", async () => {
    database = await createTestDatabase("migrate_fail");
    const broken = [{ version: 1, name: "half", sql: "CREATE TABLE half (id int); SELECT * FROM missing_table;" }];
    await expect(migrate(database.db, broken)).rejects.toThrow(/missing_table/);
    const half = (await database.db.query(sql`SELECT to_regclass('public.half') AS t`)) as { t: unknown }[];
    expect(half[0]?.t).toBeNull();
  });
});
