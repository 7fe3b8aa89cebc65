import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { CliError } from "./io.js";

export interface RuleFileEntry {
  /** Where it came from, for messages: `examples/rules/llm-errors.json` or `rules.json[2]`. */
  readonly source: string;
  readonly id: string;
  readonly document: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function jsonFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${path}: no such file or directory`);
  }
  if (info.isFile()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith(".json")).sort();
  return names.map((n) => join(path, n));
}

/**
 * Reads rules from a file or every `*.json` file of a directory (not recursive). A file holds one rule
 * or an array of rules. Every rule needs a fixed `id`: that is what makes applying twice idempotent.
 * Problems are collected, not thrown one by one, so a user sees them all at once.
 */
export async function readRuleFiles(
  target: string,
  cwd: string,
): Promise<{ entries: RuleFileEntry[]; problems: string[] }> {
  const absolute = resolve(cwd, target);
  const files = await jsonFiles(absolute);
  if (files.length === 0) throw new CliError(`${target}: no .json rule files there`);
  const entries: RuleFileEntry[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const shown = relative(cwd, file) || file;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      problems.push(`${shown}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    const documents = Array.isArray(parsed) ? parsed : [parsed];
    documents.forEach((document: unknown, index) => {
      const source = Array.isArray(parsed) ? `${shown}[${index}]` : shown;
      if (typeof document !== "object" || document === null || Array.isArray(document)) {
        problems.push(`${source}: must be a rule (a JSON object)`);
        return;
      }
      const id = (document as Record<string, unknown>)["id"];
      if (typeof id !== "string" || !UUID.test(id)) {
        problems.push(
          `${source}: id: give the rule a fixed "id" (a UUID), so that applying again updates it instead of creating another`,
        );
        return;
      }
      const earlier = seen.get(id.toLowerCase());
      if (earlier !== undefined) {
        problems.push(`${source}: id: ${id} is also used by ${earlier}`);
        return;
      }
      seen.set(id.toLowerCase(), source);
      entries.push({ source, id, document: document as Record<string, unknown> });
    });
  }
  return { entries, problems };
}
