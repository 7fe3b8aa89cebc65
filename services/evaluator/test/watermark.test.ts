import { describe, expect, it } from "vitest";
import { RunsWatermark } from "@runhooks/contracts";
import { watermarkDue, watermarkMessages } from "../src/watermark.js";

describe("when a flush sends its partition's watermark", () => {
  it.each([
    // [why, stream time of the last one sent (undefined: none since the assignment), stream time now, due]
    ["the first flush after an assignment", undefined, 12_345, true],
    ["the first flush, even at a whole second", undefined, 12_000, true],
    ["within the same second", 12_000, 12_999, false],
    ["the same stream time again", 12_345, 12_345, false],
    ["crossed a whole second", 12_999, 13_000, true],
    ["crossed several", 12_100, 15_700, true],
    ["older than the last one (a refold after a restart)", 15_000, 9_000, false],
    ["no stream time yet", undefined, Number.NEGATIVE_INFINITY, false],
  ])("%s", (_why, lastSent, streamTime, due) => {
    expect(watermarkDue(lastSent, streamTime)).toBe(due);
  });

  it("is one RunsWatermark per windows partition, each addressed to it, keyed by the runs partition", () => {
    const messages = watermarkMessages(3, 13_000, 4);
    expect(messages.map((m) => m.partition)).toEqual([0, 1, 2, 3]);
    for (const m of messages) {
      expect(m.key).toBe("__watermark__/3");
      expect(m.headers).toEqual({ "runhooks-kind": "watermark" });
      expect(RunsWatermark.parse(JSON.parse(String(m.value)))).toEqual({
        schema_version: 1,
        runs_partition: 3,
        stream_time: 13_000,
      });
    }
  });
});
