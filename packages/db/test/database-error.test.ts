import { describe, expect, it } from "vitest";
import { databaseErrorKind } from "@runhooks/db";

const pg = (code: string) => Object.assign(new Error(`postgres ${code}`), { code });

describe("databaseErrorKind", () => {
  it.each([
    ["a socket error", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "unavailable"],
    ["an error without a code", new Error("Connection terminated unexpectedly"), "unavailable"],
    ["not an error at all", "boom", "unavailable"],
    ["connection failure", pg("08006"), "unavailable"],
    ["serialization failure", pg("40001"), "unavailable"],
    ["deadlock", pg("40P01"), "unavailable"],
    ["too many connections", pg("53300"), "unavailable"],
    ["admin shutdown", pg("57P01"), "unavailable"],
    ["statement cancelled (timeout)", pg("57014"), "unavailable"],
    ["lock not available", pg("55P03"), "unavailable"],
    ["check constraint", pg("23514"), "refused"],
    ["unique violation", pg("23505"), "refused"],
    ["invalid text for a type", pg("22P02"), "refused"],
    ["undefined column", pg("42703"), "refused"],
    ["permission denied", pg("42501"), "refused"],
    ["raised by a trigger", pg("P0001"), "refused"],
  ])("%s → %s", (_what, error, kind) => {
    expect(databaseErrorKind(error)).toBe(kind);
  });
});
