import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { explainLines, type ExplainedPart } from "./explain-filter.js";

interface DryRunAnswer {
  rule_id: string;
  matched: number;
  results: {
    run_id: string;
    matched: boolean;
    reasons: string[];
    /** Absent from an older API. */
    checks?: { part: string; ok?: boolean; message?: string; explanation?: ExplainedPart }[];
    decided_by?: string;
  }[];
  payloads: { start_time: string; end_time: string; runs: unknown[] }[];
  /** Per payload, which chunk of its window it is (absent from an older API). */
  chunks?: { chunk_index: number; chunk_count: number }[];
  webhooks: string[];
  windowing: string;
}

async function readText(path: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), "utf8");
  } catch {
    throw new CliError(`${path}: cannot read it`);
  }
}

/** Runs from a JSON Lines file (one run a line), or from a JSON array. */
export function parseRuns(text: string, source: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed) as unknown[];
    } catch (error) {
      throw new CliError(
        `${source}: not a valid JSON array (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
  const runs: unknown[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      runs.push(JSON.parse(line));
    } catch {
      throw new CliError(`${source}:${index + 1}: not a JSON object (one run per line)`);
    }
  });
  return runs;
}

/** `runhooks rules test -f rule.json --runs runs.jsonl`: the API's dry run, readable. */
export async function testCommand(
  options: { file: string; runs: string; json: boolean },
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  let rule: unknown;
  try {
    rule = JSON.parse(await readText(options.file, io.cwd));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${options.file}: not valid JSON`);
  }
  const runs = parseRuns(await readText(options.runs, io.cwd), options.runs);
  const answer = await new ApiClient(config).request<DryRunAnswer>("POST", "/rules/test", { rule, runs });
  if (!answer.ok) {
    for (const line of describeRefusal(answer)) io.err(`${line}\n`);
    throw new CliError("the API refused the dry run; nothing was evaluated");
  }
  const result = answer.body;
  if (options.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  // A LangSmith string filter is explained call by call, as it was written.
  const written =
    typeof rule === "object" && rule !== null && typeof (rule as { filter?: unknown }).filter === "string";
  for (const r of result.results) {
    const explanation = written ? r.checks?.find((c) => c.part === "filter")?.explanation : undefined;
    const reasons = explanation === undefined ? r.reasons : r.reasons.filter((why) => !why.startsWith("filter: "));
    // A trace-aware rule's run: which of the three filters decided it, and when its trace did.
    const byTrace = r.decided_by === "trace_filter" || r.decided_by === "tree_filter" ? `  (${r.decided_by})` : "";
    const trace = r.matched ? r.checks?.find((c) => c.part === "trace") : undefined;
    io.out(`${r.matched ? "match   " : "no match"}  ${r.run_id}${byTrace}\n`);
    if (trace?.message !== undefined) io.out(`          ${trace.message}\n`);
    for (const why of reasons) io.out(`          ${why}\n`);
    if (explanation !== undefined) for (const line of explainLines(explanation, "          ")) io.out(`${line}\n`);
  }
  io.out(
    `${result.matched} of ${result.results.length} runs match; ${result.payloads.length} payload${result.payloads.length === 1 ? "" : "s"} would be sent`,
  );
  io.out(result.webhooks.length > 0 ? ` to ${result.webhooks.join(", ")}\n` : " (the rule has no webhooks)\n");
  for (const [i, p] of result.payloads.entries()) {
    const chunk = result.chunks?.[i];
    const label =
      chunk !== undefined && chunk.chunk_count > 1 ? ` (chunk ${chunk.chunk_index + 1} of ${chunk.chunk_count})` : "";
    io.out(`  window ${p.start_time} – ${p.end_time}: ${p.runs.length} run${p.runs.length === 1 ? "" : "s"}${label}\n`);
  }
  if (result.payloads.length > 0) io.out("(--json shows the exact payloads)\n");
  return 0;
}
