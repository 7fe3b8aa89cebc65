import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgArray, sql } from "@runhooks/db";
import { createTestDatabase, type TestDatabase } from "../../../test/support/stack.js";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase("pg_array");
});
afterAll(async () => {
  await database.drop();
});

describe("pgArray", () => {
  it("round-trips text Postgres would misread unquoted or unescaped", async () => {
    const values = [
      "",
      "NULL",
      "null",
      " spaced ",
      "a,b",
      "{x}",
      'say "hi"',
      "back\\slash",
      '\\"',
      "é ✓ 🙂",
      "line\nbreak",
      "tab\t",
      null,
    ];
    const [row] = (await database.db.query(sql`SELECT ${pgArray(values)}::text[] AS v`)) as { v: (string | null)[] }[];
    expect(row!.v).toEqual(values);
  });

  it("gives uuids, integers, floats, booleans and timestamps their types", async () => {
    const at = new Date("2026-11-27T02:10:44.123Z");
    const [row] = (await database.db.query(sql`
      SELECT ${pgArray(["6ab80f10-d79c-4fa2-b441-922ed6feb630", null])}::uuid[] AS u, ${pgArray([1, -2, null])}::int[] AS i,
        ${pgArray([0.1, 12.5])}::float8[] AS f, ${pgArray([true, false])}::bool[] AS b, ${pgArray([at, null])}::timestamptz[] AS t,
        ${pgArray([])}::int[] AS e`)) as {
      u: unknown;
      i: unknown;
      f: unknown;
      b: unknown;
      t: (Date | null)[];
      e: unknown;
    }[];
    expect(row).toMatchObject({
      u: ["6ab80f10-d79c-4fa2-b441-922ed6feb630", null],
      i: [1, -2, null],
      f: [0.1, 12.5],
      b: [true, false],
      e: [],
    });
    expect(row!.t.map((d) => d?.getTime() ?? null)).toEqual([at.getTime(), null]);
  });

  it("refuses numbers Postgres would not read back as they were", () => {
    expect(() => pgArray([Number.NaN])).toThrow(RangeError);
  });
});
