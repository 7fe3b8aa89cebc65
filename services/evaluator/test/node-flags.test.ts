import { readFileSync } from "node:fs";
import { EVALUATOR_NODE_FLAGS } from "@runhooks/evaluator";
import { describe, expect, it } from "vitest";

describe("the evaluator process' Node flags", () => {
  it("are the bin's shebang", () => {
    const shebang = readFileSync(new URL("../src/main.ts", import.meta.url), "utf8").split("\n")[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${EVALUATOR_NODE_FLAGS.join(" ")}`);
  });

  it("are what bench:evaluator-scale gives the evaluator's process", () => {
    const bench = readFileSync(new URL("../../../bench/evaluator/scale.ts", import.meta.url), "utf8");
    expect(bench).toContain(`...(task.mode === "evaluator" ? EVALUATOR_NODE_FLAGS : [])`);
  });
});
