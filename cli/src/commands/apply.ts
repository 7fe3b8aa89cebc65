import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { readRuleFiles, type RuleFileEntry } from "../rule-files.js";

export interface ApplyOptions {
  readonly file: string;
  readonly dryRun: boolean;
  readonly prune: boolean;
}

type Outcome = "created" | "updated" | "unchanged" | "deleted";

interface RuleAnswer {
  result: "created" | "updated" | "unchanged";
  rule: { id: string; display_name: string; version: number };
}

interface ListAnswer {
  rules: { id: string; display_name: string; version: number }[];
}

interface Line {
  readonly outcome: Outcome;
  readonly id: string;
  readonly name: string;
  readonly source: string;
}

const PAST: Record<Outcome, string> = {
  created: "created",
  updated: "updated",
  unchanged: "unchanged",
  deleted: "deleted",
};
const PLANNED: Record<Outcome, string> = {
  created: "would create",
  updated: "would update",
  unchanged: "unchanged",
  deleted: "would delete",
};

function formatLine(line: Line, dryRun: boolean): string {
  const label = (dryRun ? PLANNED : PAST)[line.outcome].padEnd(12);
  return `${label} ${line.id}  ${line.name}${line.source === "" ? "" : `  (${line.source})`}`;
}

function summary(lines: readonly Line[], dryRun: boolean): string {
  const count = (o: Outcome) => lines.filter((l) => l.outcome === o).length;
  const changes = lines.length - count("unchanged");
  if (changes === 0) {
    return `nothing ${dryRun ? "to change" : "changed"}: all ${lines.length} rule${lines.length === 1 ? " is" : "s are"} up to date`;
  }
  const verb = dryRun ? "would be " : "";
  const parts = (["created", "updated", "unchanged", "deleted"] as const).map(
    (o) => `${count(o)} ${o === "unchanged" ? o : `${verb}${o}`}`,
  );
  return `${parts.join(", ")}${dryRun ? " (dry run: nothing was changed)" : ""}`;
}

function refuse(problems: readonly string[], io: CliIo): never {
  for (const p of problems) io.err(`${p}\n`);
  throw new CliError(
    `${problems.length} problem${problems.length === 1 ? "" : "s"} in the rule files; nothing was applied`,
  );
}

async function put(client: ApiClient, entry: RuleFileEntry, dryRun: boolean) {
  return client.request<RuleAnswer>("PUT", `/rules/${entry.id}${dryRun ? "?dry_run=true" : ""}`, entry.document);
}

/**
 * `runhooks rules apply -f <file|dir>`: makes the tenant's rules what the files say (GitOps). Every rule
 * is checked first (a server-side dry run); if any is refused nothing is applied. Then each is PUT —
 * created, updated, or left unchanged — and with --prune the tenant's rules absent from the files are
 * deleted. Applying the same files again changes nothing, and says so.
 */
export async function applyCommand(options: ApplyOptions, config: CliConfig, io: CliIo): Promise<number> {
  const client = new ApiClient(config);
  const { entries, problems } = await readRuleFiles(options.file, io.cwd);
  if (problems.length > 0) refuse(problems, io);

  // Pass 1: validate every rule and learn what would happen, writing nothing.
  const planned: Line[] = [];
  for (const entry of entries) {
    const answer = await put(client, entry, true);
    if (!answer.ok) {
      for (const line of describeRefusal(answer)) problems.push(`${entry.source}: ${line}`);
      continue;
    }
    planned.push({
      outcome: answer.body.result,
      id: entry.id,
      name: answer.body.rule.display_name,
      source: entry.source,
    });
  }
  if (problems.length > 0) refuse(problems, io);

  let toDelete: Line[] = [];
  if (options.prune) {
    const listed = await client.request<ListAnswer>("GET", "/rules");
    if (!listed.ok) throw new CliError(`could not list the rules: ${describeRefusal(listed).join("; ")}`);
    const wanted = new Set(entries.map((e) => e.id.toLowerCase()));
    toDelete = listed.body.rules
      .filter((r) => !wanted.has(r.id.toLowerCase()))
      .map((r) => ({ outcome: "deleted" as const, id: r.id, name: r.display_name, source: "" }));
  }

  if (options.dryRun) {
    const lines = [...planned, ...toDelete];
    for (const line of lines) io.out(`${formatLine(line, true)}\n`);
    io.out(`${summary(lines, true)}\n`);
    return 0;
  }

  // Pass 2: apply. Every rule is PUT (an unchanged one stays unchanged), so the outcome is the server's.
  const done: Line[] = [];
  for (const entry of entries) {
    const answer = await put(client, entry, false);
    if (!answer.ok)
      throw new CliError(`${entry.source}: ${describeRefusal(answer).join("; ")} (rules before it were applied)`);
    const line: Line = {
      outcome: answer.body.result,
      id: entry.id,
      name: answer.body.rule.display_name,
      source: entry.source,
    };
    done.push(line);
    io.out(`${formatLine(line, false)}\n`);
  }
  for (const line of toDelete) {
    const answer = await client.request<unknown>("DELETE", `/rules/${line.id}`);
    // Deleted meanwhile by someone else: the goal is reached all the same.
    if (!answer.ok && answer.status !== 404)
      throw new CliError(`could not delete ${line.id}: ${describeRefusal(answer).join("; ")}`);
    done.push(line);
    io.out(`${formatLine(line, false)}\n`);
  }
  io.out(`${summary(done, false)}\n`);
  return 0;
}
