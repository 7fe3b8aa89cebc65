import { isObject, type JsonObject } from "./json-object.js";

/**
 * The token counts a run reports, in the shapes the SDKs and LangChain write them (first found wins):
 *
 * | where | fields | written by |
 * |---|---|---|
 * | `outputs.usage_metadata` | `input_tokens`, `output_tokens`, `total_tokens` | `traceable`, the SDK's OpenAI/Anthropic wrappers |
 * | `extra.metadata.usage_metadata` | the same | `traceable` (a copy), the Anthropic and Vercel integrations |
 * | `outputs.llm_output.token_usage` | `prompt_tokens`, `completion_tokens`, `total_tokens` | LangChain (Python) LLM runs |
 * | `outputs.llmOutput.tokenUsage` | `promptTokens`, `completionTokens`, `totalTokens` | LangChain.js LLM runs |
 * | `outputs.generations[i][j].message(.kwargs).usage_metadata` | as `usage_metadata` | LangChain chat models' messages |
 *
 * A count is a non-negative integer; the total, when not reported, is the sum of the other two.
 */
export interface TokenCounts {
  readonly prompt: number | undefined;
  readonly completion: number | undefined;
  readonly total: number | undefined;
}

type Names = readonly [prompt: string, completion: string, total: string];

const USAGE_METADATA: Names = ["input_tokens", "output_tokens", "total_tokens"];
const TOKEN_USAGE: Names = ["prompt_tokens", "completion_tokens", "total_tokens"];
const TOKEN_USAGE_JS: Names = ["promptTokens", "completionTokens", "totalTokens"];

function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function countsOf(usage: unknown, names: Names): TokenCounts | undefined {
  if (!isObject(usage)) return undefined;
  const prompt = count(usage[names[0]]);
  const completion = count(usage[names[1]]);
  const total =
    count(usage[names[2]]) ?? (prompt !== undefined && completion !== undefined ? prompt + completion : undefined);
  if (prompt === undefined && completion === undefined && total === undefined) return undefined;
  // One shape for every answer (no spreads): this runs for every run ingest produces.
  return { prompt, completion, total };
}

function child(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

/** The first chat message of LangChain's `generations` (a list of lists, or a flat list) that reports usage. */
function generationsUsage(generations: unknown): TokenCounts | undefined {
  if (!Array.isArray(generations)) return undefined;
  for (const entry of generations) {
    for (const generation of Array.isArray(entry) ? (entry as unknown[]) : [entry]) {
      const message = child(generation, "message");
      const usage = child(message, "usage_metadata") ?? child(child(message, "kwargs"), "usage_metadata");
      const counts = countsOf(usage, USAGE_METADATA);
      if (counts !== undefined) return counts;
    }
  }
  return undefined;
}

/** The token counts `run` reports, or undefined when it reports none. Pure; never throws. */
export function reportedUsage(run: JsonObject): TokenCounts | undefined {
  const outputs = run["outputs"];
  if (isObject(outputs)) {
    const direct = countsOf(outputs["usage_metadata"], USAGE_METADATA);
    if (direct !== undefined) return direct;
  }
  const copied = countsOf(child(child(run["extra"], "metadata"), "usage_metadata"), USAGE_METADATA);
  if (copied !== undefined || !isObject(outputs)) return copied;
  return (
    countsOf(child(outputs["llm_output"], "token_usage"), TOKEN_USAGE) ??
    countsOf(child(outputs["llmOutput"], "tokenUsage"), TOKEN_USAGE_JS) ??
    generationsUsage(outputs["generations"])
  );
}
