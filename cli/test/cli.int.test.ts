import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "@runhooks/cli";
import { recordProjects } from "@runhooks/db";
import { projectId } from "@runhooks/rules";
import { startTestApi, type TestApi } from "../../services/api/test/support/api-harness.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const examples = join(repoRoot, "examples/rules");
const mainScript = join(repoRoot, "cli/src/main.ts");

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** The real command line, in its own process, as a user runs it. */
function runProcess(args: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", mainScript, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/**
 * The example rules in a fresh folder, each with a new id: rule ids are global, and the first test's
 * tenant owns the examples' own ids. Returns the new id of each file.
 */
async function examplesWithFreshIds(dir: string): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const name of (await readdir(examples)).filter((n) => n.endsWith(".json"))) {
    const rule = JSON.parse(await readFile(join(examples, name), "utf8")) as Record<string, unknown>;
    ids[name] = randomUUID();
    await writeFile(join(dir, name), JSON.stringify({ ...rule, id: ids[name] }, null, 2));
  }
  return ids;
}

let api: TestApi;
let tenant: { tenantId: string; key: string };

/** The CLI in this process, its output captured. */
async function cli(args: string[], env: Record<string, string | undefined> = {}, cwd = repoRoot): Promise<Ran> {
  let out = "";
  let err = "";
  const code = await runCli(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { RUNHOOKS_API_URL: api.url, RUNHOOKS_API_KEY: tenant.key, ...env },
    cwd,
  });
  return { code, out, err };
}

beforeAll(async () => {
  api = await startTestApi("cli");
  tenant = await api.newTenant("cli");
});
afterAll(async () => {
  await api?.close();
});

describe("runhooks rules apply", () => {
  it("applied twice to examples/rules/, creates the rules once and then says nothing changed", async () => {
    const env = { RUNHOOKS_API_URL: api.url, RUNHOOKS_API_KEY: tenant.key };
    const first = await runProcess(["rules", "apply", "-f", "examples/rules"], env);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    const createdLines = first.out.split("\n").filter((l) => l.startsWith("created "));
    expect(createdLines).toHaveLength(5);
    expect(first.out).toContain("5 created, 0 updated, 0 unchanged, 0 deleted");
    expect(first.out).toContain("ff0673c6-7b22-4b03-a455-0c3957d5d9ad  LLM errors  (examples/rules/llm-errors.json)");

    const second = await runProcess(["rules", "apply", "-f", "examples/rules/"], env);
    expect(second.code).toBe(0);
    expect(second.out.split("\n").filter((l) => l.startsWith("unchanged "))).toHaveLength(5);
    expect(second.out).toContain("nothing changed: all 5 rules are up to date");
    expect(second.out).not.toMatch(/^(created|updated|deleted) /m);

    // The second run wrote nothing: every rule is at version 1 with a one-event history.
    const listed = await api.call("GET", "/rules", { key: tenant.key });
    const rules = (listed.body as { rules: { id: string; version: number; tenant_id: string }[] }).rules;
    expect(rules).toHaveLength(5);
    for (const rule of rules) {
      expect(rule.version).toBe(1);
      expect(rule.tenant_id).toBe(tenant.tenantId);
      const history = await api.call("GET", `/rules/${rule.id}/history`, { key: tenant.key });
      expect((history.body as { events: unknown[] }).events).toHaveLength(1);
    }
  });

  it("plans with --dry-run, applies changes, and prunes rules that left the folder", async () => {
    const other = await api.newTenant("cli-prune");
    const dir = await mkdtemp(join(tmpdir(), "runhooks-cli-"));
    try {
      const ids = await examplesWithFreshIds(dir);
      const slowId = ids["slow-chains.json"]!;
      const firehoseId = ids["sampled-firehose.json"]!;
      const as = { RUNHOOKS_API_KEY: other.key };
      expect((await cli(["rules", "apply", "-f", dir], as)).code).toBe(0);

      const file = join(dir, "slow-chains.json");
      const slow = JSON.parse(await readFile(file, "utf8")) as { filter: { and: unknown[] } };
      slow.filter.and[1] = { ">": [{ var: "latency" }, 60] };
      await writeFile(file, JSON.stringify(slow));
      await rm(join(dir, "sampled-firehose.json"));

      const plan = await cli(["rules", "apply", "-f", dir, "--dry-run", "--prune"], as);
      expect(plan.code).toBe(0);
      expect(plan.out).toMatch(new RegExp(`^would update +${slowId} `, "m"));
      expect(plan.out).toMatch(new RegExp(`^would delete +${firehoseId} `, "m"));
      expect(plan.out).toContain("dry run: nothing was changed");
      const untouched = await api.call("GET", `/rules/${slowId}`, { key: other.key });
      expect((untouched.body as { version: number }).version).toBe(1);

      // Without --prune, a rule missing from the folder is left alone.
      const applied = await cli(["rules", "apply", "-f", dir], as);
      expect(applied.out).toMatch(new RegExp(`^updated +${slowId} `, "m"));
      expect(applied.out).toContain("0 created, 1 updated, 3 unchanged, 0 deleted");
      expect((await api.call("GET", `/rules/${firehoseId}`, { key: other.key })).status).toBe(200);

      const pruned = await cli(["rules", "apply", "-f", dir, "--prune"], as);
      expect(pruned.out).toMatch(new RegExp(`^deleted +${firehoseId} `, "m"));
      expect(pruned.out).toContain("0 created, 0 updated, 4 unchanged, 1 deleted");
      expect((await api.call("GET", `/rules/${firehoseId}`, { key: other.key })).status).toBe(404);
      const updated = await api.call("GET", `/rules/${slowId}`, { key: other.key });
      expect((updated.body as { version: number }).version).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses the whole folder when one rule is invalid, naming file and path, and applies nothing", async () => {
    const other = await api.newTenant("cli-invalid");
    const dir = await mkdtemp(join(tmpdir(), "runhooks-cli-"));
    try {
      const good = JSON.parse(await readFile(join(examples, "llm-errors.json"), "utf8")) as Record<string, unknown>;
      await writeFile(join(dir, "a-good.json"), JSON.stringify({ ...good, id: randomUUID() }));
      const bad = JSON.parse(await readFile(join(examples, "slow-chains.json"), "utf8")) as Record<string, unknown>;
      await writeFile(
        join(dir, "b-bad.json"),
        JSON.stringify({ ...bad, id: randomUUID(), filter: { and: [{ var: "__proto__.x" }] }, sampling_rate: 3 }),
      );
      const result = await cli(["rules", "apply", "-f", dir], { RUNHOOKS_API_KEY: other.key }, dir);
      expect(result.code).toBe(1);
      expect(result.err).toContain("b-bad.json: filter.and[0].var:");
      expect(result.err).toContain("b-bad.json: sampling_rate:");
      expect(result.err).toContain("nothing was applied");
      const listed = await api.call("GET", "/rules", { key: other.key });
      expect((listed.body as { rules: unknown[] }).rules).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("runhooks webhooks rotate-secret", () => {
  it("prints the new secret alone on stdout, once, and says until when the old one signs", async () => {
    const created = await api.call("POST", "/rules", {
      key: tenant.key,
      body: {
        display_name: "rotating",
        filter: true,
        webhooks: [{ url: "https://hooks.example.com/in", signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }],
      },
    });
    const ruleId = (created.body as { rule: { id: string; webhooks: { id: string }[] } }).rule.id;
    const webhookId = (created.body as { rule: { webhooks: { id: string }[] } }).rule.webhooks[0]!.id;
    const rotated = await cli(["webhooks", "rotate-secret", ruleId, webhookId, "--grace", "2h"]);
    expect(rotated.code).toBe(0);
    expect(rotated.out).toMatch(/^whsec_[A-Za-z0-9+/]{43}=\n$/);
    expect(rotated.err).toMatch(/and with the old one too until \d{4}-\d\d-\d\dT/);
    const bad = await cli(["webhooks", "rotate-secret", ruleId, webhookId, "--grace", "soon"]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("--grace soon");
    const missing = await cli(["webhooks", "rotate-secret", ruleId, randomUUID()]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain("has no webhook");
  });
});

describe("runhooks rules list and test", () => {
  it("lists the tenant's rules", async () => {
    const other = await api.newTenant("cli-list");
    const empty = await cli(["rules", "list"], { RUNHOOKS_API_KEY: other.key });
    expect(empty.out).toContain("no rules yet");
    const dir = await mkdtemp(join(tmpdir(), "runhooks-cli-"));
    const ids = await examplesWithFreshIds(dir);
    expect(
      (await cli(["rules", "apply", "-f", join(dir, "llm-errors.json")], { RUNHOOKS_API_KEY: other.key })).code,
    ).toBe(0);
    await rm(dir, { recursive: true, force: true });
    const listed = await cli(["rules", "list"], { RUNHOOKS_API_KEY: other.key });
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^ID +VERSION +ENABLED/m);
    expect(listed.out).toMatch(new RegExp(`^${ids["llm-errors.json"]} +1 +yes .*LLM errors$`, "m"));
    const json = await cli(["rules", "list", "--json"], { RUNHOOKS_API_KEY: other.key });
    const rules = JSON.parse(json.out) as { webhooks: { url: string }[] }[];
    expect(rules[0]!.webhooks[0]!.url).toBe("http://127.0.0.1:9999/hooks/llm-errors?secret=***");
  });

  it("dry-runs a rule over a runs file", async () => {
    const result = await cli([
      "rules",
      "test",
      "-f",
      "examples/rules/llm-errors.json",
      "--runs",
      "examples/rules/sample-runs.jsonl",
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^match +69f76aac-7a70-4348-8368-c8345b5ef4d6$/m);
    expect(result.out).toMatch(/^no match +09c80159-478c-4ed6-a927-0c210ab2f55b$/m);
    expect(result.out).toContain("filter.and[1] is false");
    expect(result.out).toContain("the run has not ended");
    expect(result.out).toContain(
      "1 of 4 runs match; 1 payload would be sent to http://127.0.0.1:9999/hooks/llm-errors?secret=***",
    );
    expect(result.out).not.toContain("change-me");

    // A trace-aware rule over whole traces: which filter decided each run, and when its trace did.
    const traced = await cli([
      "rules",
      "test",
      "-f",
      "examples/traces/llm-errors-in-vip-traces.json",
      "--runs",
      "examples/traces/sample-traces.jsonl",
    ]);
    expect(traced.code).toBe(0);
    expect(traced.out).toMatch(/^match +a1b2c3d4-0001-4a00-8000-000000000001 +\(trace_filter\)$/m);
    expect(traced.out).toContain("joins the window of 2024-04-05T01:28:53.200Z, when support-agent");
    expect(traced.out).toMatch(/^no match +a1b2c3d4-0002-4a00-8000-000000000001 +\(trace_filter\)$/m);
    expect(traced.out).toContain(
      "trace: dropped at 2024-04-05T01:28:56.500Z, when its root was read: the root fails trace_filter",
    );
    expect(traced.out).toContain("1 of 5 runs match; 1 payload would be sent");

    const json = await cli([
      "rules",
      "test",
      "-f",
      "examples/rules/expensive-runs.json",
      "--runs",
      "examples/rules/sample-runs.jsonl",
      "--json",
    ]);
    const answer = JSON.parse(json.out) as {
      matched: number;
      payloads: { rule_id: string; runs: { id: string }[] }[];
      chunks: { chunk_index: number; chunk_count: number }[];
    };
    expect(answer.matched).toBe(1);
    expect(answer.chunks.map((c) => [c.chunk_index, c.chunk_count])).toEqual([[0, 1]]);
    expect(answer.payloads[0]!.rule_id).toBe("17be427d-6fe0-4f1c-80eb-f33377471e88");
    expect(answer.payloads[0]!.runs.map((r) => r.id)).toEqual(["9870b234-9306-4cb2-a901-f90da909edff"]);
  });
});

describe("runhooks rules test with a LangSmith filter string", () => {
  it("explains the filter call by call, as written, with each verdict and what it read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runhooks-cli-ls-"));
    try {
      const filter = 'and(eq(run_type, "llm"),\n    or(eq(status, "error"), gt(latency, "5s")))';
      await writeFile(join(dir, "rule.json"), JSON.stringify({ display_name: "LLM trouble", filter }));
      const result = await cli(
        ["rules", "test", "-f", "rule.json", "--runs", join(examples, "sample-runs.jsonl")],
        {},
        dir,
      );
      expect(result.err).toBe("");
      expect(result.code).toBe(0);
      const lines = result.out.split("\n");
      const block = (id: string) => lines.slice(lines.findIndex((l) => l.endsWith(id)) + 1).slice(0, 5);
      expect(block("69f76aac-7a70-4348-8368-c8345b5ef4d6")).toEqual([
        '          true   and(eq(run_type, "llm"), or(eq(status, "error"), gt(latency, "5s")))',
        '            true   eq(run_type, "llm")  run_type = "llm"',
        '            true   or(eq(status, "error"), gt(latency, "5s"))',
        '              true   eq(status, "error")  status = "error"',
        '              false  gt(latency, "5s")  latency = 1.75',
      ]);
      expect(result.out).toMatch(/^no match {2}09c80159-478c-4ed6-a927-0c210ab2f55b$/m);
      expect(block("09c80159-478c-4ed6-a927-0c210ab2f55b")[0]).toMatch(/^ {10}false {2}and\(eq\(run_type, "llm"\), or/);
      expect(result.out).toContain("1 of 4 runs match");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("runhooks projects list", () => {
  it("lists the tenant's projects, newest first, and no other tenant's", async () => {
    const mine = await api.newTenant("cli-projects");
    const theirs = await api.newTenant("cli-projects-other");
    const as = { RUNHOOKS_API_KEY: mine.key };
    expect((await cli(["projects", "list"], as)).out).toContain("no projects yet");
    // What ingest records when the first run of each project arrives.
    for (const name of ["support-bot", "default"])
      await recordProjects(api.database.db, mine.tenantId, [{ id: projectId(mine.tenantId, name), name }], 10);
    await recordProjects(api.database.db, theirs.tenantId, [{ id: projectId(theirs.tenantId, "x"), name: "x" }], 10);

    const listed = await cli(["projects", "list"], as);
    expect(listed.code).toBe(0);
    const lines = listed.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +CREATED +NAME$/);
    expect(lines.slice(1).map((l) => l.split(/ +/))).toEqual([
      [projectId(mine.tenantId, "default"), expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), "default"],
      [projectId(mine.tenantId, "support-bot"), expect.stringMatching(/Z$/), "support-bot"],
    ]);
    const json = await cli(["projects", "list", "--json", "--name-contains", "BOT"], as);
    expect((JSON.parse(json.out) as { id: string; name: string }[]).map((p) => p.name)).toEqual(["support-bot"]);
    const bad = await cli(["projects", "list", "--limit", "0"], as);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("limit");
  });
});

describe("runhooks webhooks and deliveries recover", () => {
  it("lists a rule's webhooks with their health, enables one, recovers nothing when nothing failed", async () => {
    const owner = await api.newTenant("cli-webhooks");
    const dir = await mkdtemp(join(tmpdir(), "runhooks-cli-"));
    const ids = await examplesWithFreshIds(dir);
    expect(
      (await cli(["rules", "apply", "-f", join(dir, "llm-errors.json")], { RUNHOOKS_API_KEY: owner.key })).code,
    ).toBe(0);
    await rm(dir, { recursive: true, force: true });
    const rule = ids["llm-errors.json"]!;
    const listed = await cli(["webhooks", "list", rule], { RUNHOOKS_API_KEY: owner.key });
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^WEBHOOK +STATE +FAILED IN A ROW +LAST SUCCESS +RETRY +URL/m);
    const line = listed.out.split("\n")[1]!;
    expect(line).toMatch(/ healthy +0 +- +default +http:\/\/127\.0\.0\.1:9999\/hooks\/llm-errors\?secret=\*\*\*$/);
    const webhook = line.split(/ +/)[0]!;
    const enabled = await cli(["webhooks", "enable", rule, webhook], { RUNHOOKS_API_KEY: owner.key });
    expect(enabled.out).toBe(`${webhook} was healthy; it is enabled\n`);
    const missing = await cli(["webhooks", "enable", rule, randomUUID()], { RUNHOOKS_API_KEY: owner.key });
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain(`runhooks webhooks list ${rule}`);
    const recovered = await cli(["deliveries", "recover", "--since", "2h"], { RUNHOOKS_API_KEY: owner.key });
    expect(recovered.code).toBe(0);
    expect(recovered.out).toMatch(/^queued 0 failed or skipped deliveries created since \d{4}-/);
    const bad = await cli(["deliveries", "recover", "--since", "yesterday"], { RUNHOOKS_API_KEY: owner.key });
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("90s, 30m, 2h, 1d");
  });
});

describe("runhooks errors and help", () => {
  it("says what to do when the API is unreachable or the key is missing or wrong", async () => {
    const unreachable = await cli(["rules", "list"], { RUNHOOKS_API_URL: "http://127.0.0.1:9" });
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toContain("cannot reach the runhooks API at http://127.0.0.1:9");
    expect(unreachable.err).toContain("start it with `npm start`");
    const noKey = await cli(["rules", "list"], { RUNHOOKS_API_KEY: undefined });
    expect(noKey.code).toBe(1);
    expect(noKey.err).toContain("RUNHOOKS_API_KEY is not set");
    const wrongKey = await cli(["rules", "list"], { RUNHOOKS_API_KEY: "rh_wrong" });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toContain("the API refused the key");
  });

  it("creates a tenant with the admin key and prints its key once", async () => {
    const created = await cli(["tenants", "create", "acme"], {
      RUNHOOKS_ADMIN_KEY: api.adminKey,
      RUNHOOKS_API_KEY: undefined,
    });
    expect(created.code).toBe(0);
    const key = /export RUNHOOKS_API_KEY=(\S+)/.exec(created.out)?.[1];
    expect(key).toBeDefined();
    expect((await cli(["rules", "list"], { RUNHOOKS_API_KEY: key })).code).toBe(0);
  });

  it("has --help on every command, from the real binary", async () => {
    for (const args of [
      ["--help"],
      ["rules", "--help"],
      ["rules", "apply", "--help"],
      ["rules", "list", "--help"],
      ["rules", "test", "--help"],
      ["start", "--help"],
      ["demo", "--help"],
      ["runs", "produce", "--help"],
      ["deliveries", "--help"],
      ["deliveries", "list", "--help"],
      ["deliveries", "show", "--help"],
      ["deliveries", "redeliver", "--help"],
      ["deliveries", "recover", "--help"],
      ["webhooks", "list", "--help"],
      ["webhooks", "enable", "--help"],
      ["webhooks", "test", "--help"],
      ["tail", "--help"],
      ["tenants", "create", "--help"],
      ["projects", "list", "--help"],
      ["webhooks", "rotate-secret", "--help"],
    ]) {
      const help = await cli(args);
      expect(help.code).toBe(0);
      expect(help.out).toContain("Usage: runhooks");
    }
    const real = await runProcess(["rules", "test", "--help"], {});
    expect(real.code).toBe(0);
    expect(real.out).toContain("--runs <path>");
    const wrong = await cli(["rules", "apply"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain("required option '-f, --file <path>'");
  });
});
