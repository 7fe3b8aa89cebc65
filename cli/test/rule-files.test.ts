import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "@runhooks/cli";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "runhooks-cli-unit-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The API is never reached in these cases: every problem is found in the files first. */
async function cli(args: string[]) {
  let out = "";
  let err = "";
  const code = await runCli(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { RUNHOOKS_API_URL: "http://127.0.0.1:9", RUNHOOKS_API_KEY: "rh_x" },
    cwd: dir,
  });
  return { code, out, err };
}

describe("rule files", () => {
  it("reports unreadable files, missing and duplicate ids together, before calling the API", async () => {
    const id = "5d1c9b1e-3c55-4f0e-9d4c-0f6e2b1a7c11";
    await writeFile(join(dir, "a.json"), JSON.stringify([{ id, filter: true }, { filter: true }]));
    await writeFile(join(dir, "b.json"), JSON.stringify({ id, filter: true }));
    await writeFile(join(dir, "c.json"), "{ nope");
    await writeFile(join(dir, "notes.txt"), "ignored");
    const result = await cli(["rules", "apply", "-f", "."]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('a.json[1]: id: give the rule a fixed "id"');
    expect(result.err).toContain(`b.json: id: ${id} is also used by a.json[0]`);
    expect(result.err).toContain("c.json: not valid JSON");
    expect(result.err).toContain("3 problems in the rule files; nothing was applied");
    expect(result.err).not.toContain("notes.txt");
    // Found in the files alone: the (unreachable) API was never called.
    expect(result.err).not.toContain("cannot reach");
    expect(result.out).toBe("");
  });

  it("says so when the path does not exist or holds no rule files", async () => {
    expect((await cli(["rules", "apply", "-f", "missing"])).err).toContain("missing: no such file or directory");
    expect((await cli(["rules", "apply", "-f", "."])).err).toContain(".: no .json rule files there");
  });

  it("names the line of a runs file that is not JSON", async () => {
    await writeFile(join(dir, "rule.json"), JSON.stringify({ filter: true }));
    await writeFile(join(dir, "runs.jsonl"), '{"id": 1}\n\nnot json\n');
    const result = await cli(["rules", "test", "-f", "rule.json", "--runs", "runs.jsonl"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("runs.jsonl:3: not a JSON object");
  });
});
