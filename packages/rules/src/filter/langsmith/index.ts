import type { JsonValue } from "@runhooks/contracts";
import { parse } from "./parser.js";
import { Refusal, type TextProblem } from "./position.js";
import { translate } from "./translate.js";

export { describeProblem, positionOf, type TextPosition, type TextProblem } from "./position.js";
export { FIELDS, ENTRY_FIELDS, FUNCTIONS } from "./fields.js";

export type LangSmithFilter =
  | {
      readonly ok: true;
      /** The same JSON-logic tree a rule could hold (operators.ts's extensions where JSON-logic has none). */
      readonly tree: JsonValue;
      /** Path in the rule document (`filter.and[1]`) → the LangSmith text of that part. */
      readonly sources: Readonly<Record<string, string>>;
    }
  | ({ readonly ok: false } & TextProblem);

/**
 * Parses LangSmith's trace query language (`and(eq(run_type, "llm"), gt(latency, "5s"))`) into a
 * JSON-logic tree with LangSmith's meaning. Pure; the first problem found is answered with its
 * character offset. `maxDepth` bounds how deep calls nest (the parser recurses).
 */
export function parseLangSmithFilter(text: string, maxDepth: number): LangSmithFilter {
  try {
    const { tree, sources } = translate(text, parse(text, maxDepth));
    return { ok: true, tree, sources };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, offset: error.offset, message: error.message };
    throw error;
  }
}
