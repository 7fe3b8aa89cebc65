import type { Run } from "@runhooks/contracts";
import { compileFilter, resolveFilter, runFacts, type FilterVerdict } from "@runhooks/rules";

/** An ended LLM run of one second, root of its trace, with nothing else set. */
export const BASE_RUN: Run = {
  id: "6d9e7c52-3f0a-4f0e-9b1d-1c2d3e4f5a6b",
  name: "ChatOpenAI",
  run_type: "llm",
  status: "success",
  start_time: "2024-04-05T01:28:54.085649Z",
  end_time: "2024-04-05T01:28:55.085649Z",
  tenant_id: "2ebda79f-8b1a-4b3e-9a51-2f7c5d1e0a11",
  session_id: "6a3be6a2-1c4d-4e5f-8a9b-0c1d2e3f4a5b",
  trace_id: "6d9e7c52-3f0a-4f0e-9b1d-1c2d3e4f5a6b",
  parent_run_id: null,
  is_root: true,
  error: null,
  tags: [],
  extra: { metadata: {} },
  inputs: {},
  outputs: {},
  total_tokens: 100,
  prompt_tokens: 80,
  completion_tokens: 20,
  total_cost: 0.001,
};

/** A run with some fields changed (`undefined` removes one). */
export function run(changes: Partial<Run> & Record<string, unknown> = {}): Run {
  const out: Record<string, unknown> = { ...BASE_RUN, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete out[key];
  return out as Run;
}

/** A run whose metadata is `metadata`. */
export function withMetadata(metadata: Record<string, unknown>, changes: Partial<Run> = {}): Run {
  return run({ ...changes, extra: { metadata: metadata as Record<string, never> } });
}

/** A run ending `seconds` after it started. */
export function lasting(seconds: number, changes: Partial<Run> = {}): Run {
  const end = new Date(Date.parse("2024-04-05T01:28:54.000Z") + seconds * 1000).toISOString();
  return run({ ...changes, start_time: "2024-04-05T01:28:54.000Z", end_time: end });
}

/** The compiled verdict of a LangSmith string on a run; throws when the string does not resolve. */
export function verdict(text: string, subject: Run): FilterVerdict {
  const resolved = resolveFilter(text);
  if (!resolved.ok) throw new Error(`${text} was refused: ${JSON.stringify(resolved.issues)}`);
  return compileFilter(resolved.tree)(runFacts(subject));
}
