import { describe, expect, it } from "vitest";
import { DEFAULT_RETENTION, nextBatchStep, retentionPlan } from "../src/retention-policy.js";

const now = new Date("2026-03-31T12:00:00.000Z");

describe("what retention deletes", () => {
  it.each([
    { bodyDays: 30, recordDays: 90, bodies: "2026-03-01T12:00:00.000Z", records: "2025-12-31T12:00:00.000Z" },
    { bodyDays: 1, recordDays: 1, bodies: "2026-03-30T12:00:00.000Z", records: "2026-03-30T12:00:00.000Z" },
    { bodyDays: 0.5, recordDays: 0, bodies: "2026-03-31T00:00:00.000Z", records: undefined },
    { bodyDays: 0, recordDays: 7, bodies: undefined, records: "2026-03-24T12:00:00.000Z" },
    { bodyDays: 0, recordDays: 0, bodies: undefined, records: undefined },
  ])("bodies $bodyDays d, records $recordDays d", ({ bodyDays, recordDays, bodies, records }) => {
    const plan = retentionPlan(now, { ...DEFAULT_RETENTION, bodyDays, recordDays });
    expect(plan.bodiesBefore?.toISOString()).toBe(bodies);
    expect(plan.recordsBefore?.toISOString()).toBe(records);
  });

  it.each([
    { deleted: 500, batches: 1, step: "again" },
    { deleted: 499, batches: 1, step: "next_kind" },
    { deleted: 0, batches: 1, step: "next_kind" },
    { deleted: 500, batches: 199, step: "again" },
    { deleted: 500, batches: 200, step: "pause" },
    { deleted: 12, batches: 200, step: "next_kind" },
  ])("after $deleted deleted in batch $batches: $step", ({ deleted, batches, step }) => {
    expect(nextBatchStep(deleted, batches, DEFAULT_RETENTION)).toBe(step);
  });
});
