import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, sql, type SQLQuery } from "@runhooks/db";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase("roles");
  await migrate(database.db);
});
afterAll(async () => {
  await database.drop();
});

/** Runs `query` as `role` (SET LOCAL ROLE, rolled back): "ok", or the SQLSTATE it failed with. */
async function as(role: string, query: SQLQuery): Promise<string> {
  try {
    await database.db.tx(async (tx) => {
      await tx.query(sql`SET LOCAL ROLE ${sql.ident(role)}`);
      await tx.query(query);
      throw new Error("rollback");
    });
    return "unreachable";
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code ?? ((error as Error).message === "rollback" ? "ok" : String(error));
  }
}

const DENIED = "42501";

describe("each service's database role (migration 015)", () => {
  it.each(
    [
      // ingest: keys and its own tables, never rules or their secrets
      { role: "runhooks_ingest", query: sql`SELECT 1 FROM rules`, expected: DENIED },
      { role: "runhooks_ingest", query: sql`SELECT 1 FROM rule_events`, expected: DENIED },
      { role: "runhooks_ingest", query: sql`SELECT 1 FROM outbox`, expected: DENIED },
      { role: "runhooks_ingest", query: sql`SELECT 1 FROM delivery_windows`, expected: DENIED },
      {
        role: "runhooks_ingest",
        query: sql`INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'x')`,
        expected: DENIED,
      },
      {
        role: "runhooks_ingest",
        query: sql`SELECT 1 FROM api_keys JOIN tenants ON tenants.id = api_keys.tenant_id`,
        expected: "ok",
      },
      { role: "runhooks_ingest", query: sql`SELECT 1 FROM ingest_pending`, expected: "ok" },
      { role: "runhooks_ingest", query: sql`SELECT 1 FROM projects`, expected: "ok" },
      { role: "runhooks_ingest", query: sql`DELETE FROM projects WHERE false`, expected: "ok" },
      { role: "runhooks_ingest", query: sql`SELECT 1 FROM backfills`, expected: DENIED },
      // delivery: its tables and the webhooks of rule versions
      { role: "runhooks_delivery", query: sql`SELECT rule -> 'webhooks' FROM rule_events`, expected: "ok" },
      { role: "runhooks_delivery", query: sql`DELETE FROM delivery_attempts`, expected: "ok" },
      { role: "runhooks_delivery", query: sql`SELECT rule_id, version FROM rules WHERE NOT deleted`, expected: "ok" },
      { role: "runhooks_delivery", query: sql`UPDATE webhook_health SET state = state`, expected: "ok" },
      { role: "runhooks_delivery", query: sql`UPDATE backfills SET state = state`, expected: "ok" },
      { role: "runhooks_delivery", query: sql`UPDATE rules SET deleted = deleted`, expected: DENIED },
      { role: "runhooks_delivery", query: sql`SELECT 1 FROM api_keys`, expected: DENIED },
      { role: "runhooks_delivery", query: sql`UPDATE rule_events SET type = type`, expected: DENIED },
      { role: "runhooks_delivery", query: sql`SELECT 1 FROM ingest_pending`, expected: DENIED },
      // api
      { role: "runhooks_api", query: sql`SELECT 1 FROM rules JOIN rule_events USING (rule_id)`, expected: "ok" },
      { role: "runhooks_api", query: sql`SELECT 1 FROM ingest_pending`, expected: DENIED },
      { role: "runhooks_api", query: sql`UPDATE webhook_health SET state = state`, expected: "ok" },
      { role: "runhooks_api", query: sql`SELECT 1 FROM backfills`, expected: "ok" },
      // Grafana's reader: no secret, no run body
      { role: "runhooks_reader", query: sql`SELECT payload FROM delivery_windows`, expected: DENIED },
      { role: "runhooks_reader", query: sql`SELECT 1 FROM rules`, expected: DENIED },
      { role: "runhooks_reader", query: sql`SELECT 1 FROM rule_events`, expected: DENIED },
      { role: "runhooks_reader", query: sql`SELECT 1 FROM api_keys`, expected: DENIED },
      { role: "runhooks_reader", query: sql`SELECT 1 FROM ingest_pending`, expected: DENIED },
      { role: "runhooks_reader", query: sql`SELECT has_body, run_count FROM delivery_windows_meta`, expected: "ok" },
      {
        role: "runhooks_reader",
        query: sql`SELECT deliveries.url, outcome FROM deliveries JOIN delivery_attempts ON delivery_id = deliveries.id`,
        expected: "ok",
      },
      { role: "runhooks_reader", query: sql`DELETE FROM deliveries`, expected: DENIED },
    ].map((c) => ({
      ...c,
      what: c.query.format({ escapeIdentifier: (s) => s, formatValue: () => ({ placeholder: "?", value: null }) }).text,
    })),
  )("$role: $what → $expected", async ({ role, query, expected }) => {
    expect(await as(role, query)).toBe(expected);
  });
});
