import { nestsDeeperThan } from "@runhooks/limits";
import { tooDeepMessage, type Issue } from "./run-ops.js";

/** JSON text as a value; refused (naming the part) when not JSON or nested deeper than `maxDepth`. */
export function jsonBody(
  body: Buffer,
  part: string,
  maxDepth: number,
): { ok: true; value: unknown } | { ok: false; issues: Issue[] } {
  if (nestsDeeperThan(body, maxDepth))
    return { ok: false, issues: [{ part, path: "(root)", message: tooDeepMessage(maxDepth) }] };
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) as unknown };
  } catch (error) {
    return { ok: false, issues: [{ part, path: "(root)", message: `not valid JSON (${(error as Error).message})` }] };
  }
}
