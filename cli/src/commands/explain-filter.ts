/** One part of the dry run's filter explanation, as the API answers it. */
export interface ExplainedPart {
  readonly source?: string;
  readonly result: boolean;
  readonly error?: string;
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly parts?: readonly ExplainedPart[];
}

const MAX_VALUE = 60;

function show(value: unknown): string {
  const text = value === undefined ? "(absent)" : JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** The run values a written call read: its own, or those of the parts it became. */
function varsOf(part: ExplainedPart): Record<string, unknown> {
  if (part.vars !== undefined) return { ...part.vars };
  return Object.assign({}, ...(part.parts ?? []).map(varsOf)) as Record<string, unknown>;
}

/** The written parts directly below a part, looking through parts that were not written. */
function writtenBelow(part: ExplainedPart): ExplainedPart[] {
  return (part.parts ?? []).flatMap((p) => (p.source !== undefined ? [p] : writtenBelow(p)));
}

/**
 * A LangSmith string filter's explanation, one line per call as it was written, nested as written,
 * each with its verdict and, for a call that tests run fields directly, the values it read:
 *
 *     false  and(eq(run_type, "llm"), eq(status, "error"))
 *       true   eq(run_type, "llm")
 *       false  eq(status, "error")  status = "success"
 */
export function explainLines(root: ExplainedPart, indent: string): string[] {
  const lines: string[] = [];
  const walk = (part: ExplainedPart, depth: number): void => {
    const below = writtenBelow(part);
    const vars =
      below.length > 0
        ? ""
        : Object.entries(varsOf(part))
            .map(([name, value]) => `${name} = ${show(value)}`)
            .join(", ");
    const verdict = part.result ? "true " : "false";
    const error = part.error === undefined ? "" : `  (error: ${part.error})`;
    // A call written over several lines is shown on one.
    const source = (part.source ?? "").replace(/\s*\n\s*/g, " ");
    lines.push(`${indent}${"  ".repeat(depth)}${verdict}  ${source}${vars === "" ? "" : `  ${vars}`}${error}`);
    for (const child of below) walk(child, depth + 1);
  };
  walk(root, 0);
  return lines;
}
