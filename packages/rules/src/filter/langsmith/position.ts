/** Where a problem sits in a filter's text: a character offset, and its line and column (1-based). */
export interface TextPosition {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** A problem with a LangSmith filter string, at a character offset into it. */
export interface TextProblem {
  readonly offset: number;
  readonly message: string;
}

export function positionOf(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i += 1) {
    if (text.charCodeAt(i) === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { offset: end, line, column: end - lineStart + 1 };
}

/** `line 1, column 23 (character 22): unknown field "foo"; …` — what a 400 says. */
export function describeProblem(text: string, problem: TextProblem): string {
  const { line, column, offset } = positionOf(text, problem.offset);
  return `line ${line}, column ${column} (character ${offset}): ${problem.message}`;
}

/**
 * Thrown inside the parser and translator only, and turned into a `TextProblem` at their entry point
 * (`parseLangSmithFilter`): a refusal ends the walk wherever it is found.
 */
export class Refusal extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
    this.name = "Refusal";
  }
}
