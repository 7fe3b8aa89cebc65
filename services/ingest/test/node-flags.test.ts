import { readFileSync } from "node:fs";
import { INGEST_NODE_FLAGS } from "@runhooks/ingest";
import { describe, expect, it } from "vitest";

describe("the ingest process' Node flags", () => {
  it("are the bin's shebang", () => {
    const shebang = readFileSync(new URL("../src/main.ts", import.meta.url), "utf8").split("\n")[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${INGEST_NODE_FLAGS.join(" ")}`);
  });

  it("are what bench:ingest gives its own process, the direct producer's (the child gets them as deployed)", () => {
    const scripts = (
      JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts["bench:ingest"]).toContain(`NODE_OPTIONS=${INGEST_NODE_FLAGS.join(" ")} `);
  });
});
