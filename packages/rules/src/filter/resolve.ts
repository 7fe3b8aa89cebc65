import type { FieldIssue } from "@runhooks/contracts";
import type { JsonLogicExpression } from "./expression.js";
import { describeProblem, parseLangSmithFilter } from "./langsmith/index.js";
import { DEFAULT_FILTER_LIMITS, utf8Length, validateFilter, type FilterLimits } from "./validate.js";

export type ResolvedFilter =
  | {
      readonly ok: true;
      /** The JSON-logic tree that is compiled, costed and explained. */
      readonly tree: JsonLogicExpression;
      /** The filter as written, when it was a LangSmith string. */
      readonly text?: string;
      /** For a LangSmith string: path of a part of the tree (`filter.and[1]`) → the text it was written as. */
      readonly sources?: Readonly<Record<string, string>>;
    }
  | { readonly ok: false; readonly issues: readonly FieldIssue[] };

const ROOT = "filter";
const EXAMPLES = `a JSON-logic operation such as {"==": [{"var": "run_type"}, "llm"]}, or a LangSmith filter string such as "eq(run_type, 'llm')"`;

/**
 * A rule's `filter` as written, resolved to the tree every consumer runs: the one entry point for the
 * API's validation, the evaluator's rule book, the dry run and the CLI, so that they cannot disagree.
 *
 * - A string is LangSmith's filter language (`and(eq(run_type, "llm"), eq(status, "error"))`); a
 *   refusal names the line, column and character offset and what is accepted there.
 * - A bare number or array is refused: JSON-logic reads it as a literal that matches every run (or
 *   none), which is never what was meant.
 * - `true` (every run), `false`, null and JSON-logic operations are JSON-logic, checked by
 *   `validateFilter` within `limits` — as is the tree a string parses to.
 */
export function resolveFilter(filter: unknown, limits: Partial<FilterLimits> = {}): ResolvedFilter {
  if (typeof filter === "string") return resolveText(filter, limits);
  if (typeof filter === "number" || Array.isArray(filter)) {
    const what = Array.isArray(filter) ? "an array" : "a number";
    return {
      ok: false,
      issues: [
        { path: ROOT, message: `is ${what}, which is not a filter: write ${EXAMPLES} (true matches every run)` },
      ],
    };
  }
  const valid = validateFilter(filter, limits);
  return valid.ok ? { ok: true, tree: valid.value } : valid;
}

function resolveText(text: string, limits: Partial<FilterLimits>): ResolvedFilter {
  const maxBytes = limits.maxBytes ?? DEFAULT_FILTER_LIMITS.maxBytes;
  const bytes = utf8Length(text);
  if (bytes > maxBytes) return refused(`is ${bytes} bytes; the limit is ${maxBytes}`);
  const parsed = parseLangSmithFilter(text, limits.maxDepth ?? DEFAULT_FILTER_LIMITS.maxDepth);
  if (!parsed.ok) return refused(describeProblem(text, parsed));
  const valid = validateFilter(parsed.tree, limits);
  if (!valid.ok) {
    // The tree's paths mean nothing to whoever wrote the text: name the part they wrote instead.
    return {
      ok: false,
      issues: valid.issues.map((issue) => {
        const part = writtenAs(parsed.sources, issue.path);
        return { path: ROOT, message: part === undefined ? issue.message : `${part}: ${issue.message}` };
      }),
    };
  }
  return { ok: true, tree: valid.value, text, sources: parsed.sources };
}

/** The text of the innermost written part at or above a tree path, below the whole filter. */
function writtenAs(sources: Readonly<Record<string, string>>, path: string): string | undefined {
  let best: string | undefined;
  for (const at of Object.keys(sources)) {
    const within = path === at || path.startsWith(`${at}.`) || path.startsWith(`${at}[`);
    if (at !== ROOT && within && (best === undefined || at.length > best.length)) best = at;
  }
  return best === undefined ? undefined : sources[best];
}

function refused(message: string): ResolvedFilter {
  return { ok: false, issues: [{ path: ROOT, message }] };
}
