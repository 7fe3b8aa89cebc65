import { describe, expect, it } from "vitest";
import type { Run } from "@runhooks/contracts";
import { lasting, run, verdict, withMetadata } from "./langsmith/runs.js";

interface DocCase {
  readonly filter: string;
  /** Where LangSmith's documentation shows it (or the shape it documents, with other values). */
  readonly from: string;
  readonly match: readonly Run[];
  readonly miss: readonly Run[];
}

const EXPORT = "docs.langchain.com/langsmith/export-traces";
const SDK = "langsmith SDK list_runs docstring";
const UI = "docs.langchain.com/langsmith/filter-traces-in-application";
const NOTES = "runhooks /work/shared/langsmith.md (LangSmith rules docs)";
const SKILL = "langchain-ai/langsmith-skills, trace querying";

const CONVERSATION = "a1b2c3d4-e5f6-7890";
const THREAD_KEYS = '["session_id","conversation_id","thread_id"]';

/**
 * Filter strings from LangSmith's documentation, each with runs that must and must not match, judged
 * by the compiled filter the string resolves to.
 */
const CASES: readonly DocCase[] = [
  {
    filter: 'and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))',
    from: SDK,
    match: [lasting(12, { run_type: "chain", total_tokens: 6000 })],
    miss: [
      lasting(12, { run_type: "llm", total_tokens: 6000 }),
      lasting(8, { run_type: "chain", total_tokens: 6000 }),
      lasting(12, { run_type: "chain", total_tokens: null }),
    ],
  },
  {
    filter: 'eq(name, "extractor")',
    from: SDK,
    match: [run({ name: "extractor" })],
    miss: [run({ name: "Extractor" }), run({ name: "extractor-2" })],
  },
  {
    filter: 'and(or(has(tags, "experimental"), has(tags, "beta")), gt(latency, 2))',
    from: SDK,
    match: [lasting(3, { tags: ["beta"] }), lasting(2.5, { tags: ["prod", "experimental"] })],
    miss: [lasting(3, { tags: ["prod"] }), lasting(1, { tags: ["beta"] }), lasting(3, { tags: null })],
  },
  {
    filter: `and(in(metadata_key, ${THREAD_KEYS}), eq(metadata_value, "thread-42"))`,
    from: EXPORT,
    match: [withMetadata({ thread_id: "thread-42" }), withMetadata({ env: "x", session_id: "thread-42" })],
    // The value must belong to one of the keys, not to another key.
    miss: [withMetadata({ thread_id: "thread-41" }), withMetadata({ thread_id: "t", user: "thread-42" })],
  },
  {
    filter: `and(in(metadata_key, ["session_id", "conversation_id", "thread_id"]), eq(metadata_value, "c-1"))`,
    from: EXPORT,
    match: [withMetadata({ conversation_id: "c-1" })],
    miss: [withMetadata({ conversation: "c-1" }), withMetadata({})],
  },
  {
    filter: 'gt(latency, "5s")',
    from: EXPORT,
    match: [lasting(5.5), lasting(60)],
    miss: [lasting(5), lasting(0.2)],
  },
  {
    filter: "neq(error, null)",
    from: EXPORT,
    match: [run({ error: "RateLimitError" }), run({ error: "" })],
    miss: [run({ error: null }), run({ error: undefined })],
  },
  {
    filter: 'gt(start_time, "2023-07-15T12:34:56Z")',
    from: EXPORT,
    match: [run({ start_time: "2023-07-15T12:34:56.000001Z" }), run({ start_time: "2023-07-15T14:34:57+02:00" })],
    // The same instant written with a zone, and an earlier one whose text sorts after it.
    miss: [run({ start_time: "2023-07-15T14:34:56+02:00" }), run({ start_time: "2023-07-15T12:34:55.9Z" })],
  },
  {
    filter: 'search("substring")',
    from: EXPORT,
    match: [run({ inputs: { q: "has a SubString in it" } }), run({ error: "substring error" })],
    miss: [run({ inputs: { substring: 1 } }), run({ tags: ["substring"] })],
  },
  {
    filter: 'has(tags, "2aa1cf4")',
    from: EXPORT,
    match: [run({ tags: ["v2", "2aa1cf4"] })],
    miss: [run({ tags: ["2aa1cf40"] }), run({ tags: null })],
  },
  {
    filter:
      'and(gt(start_time, "2023-07-15T12:34:56Z"), or(neq(error, null), and(eq(run_type, "llm"), eq(status, "error"))))',
    from: `${EXPORT} (its feedback part as a run_type/status pair)`,
    match: [run({ start_time: "2024-01-01T00:00:00Z", error: "boom" }), run({ status: "error" })],
    miss: [run({ start_time: "2023-07-01T00:00:00Z", error: "boom" }), run({})],
  },
  {
    filter: 'search("image classification")',
    from: EXPORT,
    match: [run({ outputs: { labels: ["Image Classification done"] } }), run({ name: "image classification" })],
    miss: [run({ inputs: { a: "image", b: "classification" } })],
  },
  {
    filter: "eq(metadata_key, 'user_id')",
    from: EXPORT,
    match: [withMetadata({ user_id: "" }), withMetadata({ user_id: null })],
    miss: [withMetadata({ user: "u" }), run({ extra: null })],
  },
  {
    filter: "and(eq(metadata_key, 'user_id'), eq(metadata_value, '4070f233-f61e-44eb-bff1-da3c163895a3'))",
    from: EXPORT,
    match: [withMetadata({ user_id: "4070f233-f61e-44eb-bff1-da3c163895a3", env: "prod" })],
    miss: [withMetadata({ user_id: "someone-else", owner: "4070f233-f61e-44eb-bff1-da3c163895a3" }), withMetadata({})],
  },
  {
    filter: "and(eq(metadata_key, 'environment'), eq(metadata_value, 'production'))",
    from: EXPORT,
    match: [withMetadata({ environment: "production" })],
    miss: [withMetadata({ environment: "staging", stage: "production" })],
  },
  {
    filter: `and(eq(metadata_key, 'conversation_id'), eq(metadata_value, '${CONVERSATION}'))`,
    from: EXPORT,
    match: [withMetadata({ conversation_id: CONVERSATION })],
    miss: [withMetadata({ conversation_id: "other" }), withMetadata({ thread_id: CONVERSATION })],
  },
  {
    filter: "and(neq(metadata_key, 'conversation_id'))",
    from: EXPORT,
    match: [withMetadata({ thread_id: "t" }), withMetadata({})],
    miss: [withMetadata({ conversation_id: "anything" })],
  },
  {
    filter: `and(eq(metadata_key, 'conversation_id'), neq(metadata_value, '${CONVERSATION}'))`,
    from: EXPORT,
    match: [withMetadata({ conversation_id: "other" })],
    miss: [withMetadata({ conversation_id: CONVERSATION }), withMetadata({ thread_id: "other" })],
  },
  {
    filter: `and(neq(metadata_key, 'conversation_id'), neq(metadata_value, '${CONVERSATION}'))`,
    from: EXPORT,
    match: [withMetadata({ thread_id: "other" }), withMetadata({})],
    miss: [withMetadata({ conversation_id: "other" }), withMetadata({ thread_id: CONVERSATION })],
  },
  {
    filter: `and(neq(metadata_key, 'conversation_id'), eq(metadata_value, '${CONVERSATION}'))`,
    from: EXPORT,
    match: [withMetadata({ thread_id: CONVERSATION })],
    miss: [withMetadata({ conversation_id: CONVERSATION }), withMetadata({ thread_id: "other" })],
  },
  {
    filter:
      "and(eq(name, 'ChatOpenAI'), eq(metadata_key, 'conversation_id'), eq(metadata_value, '69b12c91-b1e2-46ce-91de-794c077e8151'))",
    from: EXPORT,
    match: [withMetadata({ conversation_id: "69b12c91-b1e2-46ce-91de-794c077e8151" })],
    miss: [
      withMetadata({ conversation_id: "69b12c91-b1e2-46ce-91de-794c077e8151" }, { name: "ChatAnthropic" }),
      withMetadata({ conversation_id: "x" }),
    ],
  },
  {
    filter: 'eq(name, "RetrieveDocs")',
    from: EXPORT,
    match: [run({ name: "RetrieveDocs", run_type: "retriever" })],
    miss: [run({ name: "ExpandQuery" })],
  },
  {
    filter: 'eq(name, "ExpandQuery")',
    from: EXPORT,
    match: [run({ name: "ExpandQuery" })],
    miss: [run({ name: "expandquery" })],
  },
  {
    filter: "gt(latency, 10)",
    from: SDK,
    match: [lasting(10.001)],
    miss: [lasting(10), lasting(3)],
  },
  {
    filter: 'and(eq(input_key, "messages.content"), like(input_value, "%refund%"))',
    from: NOTES,
    match: [run({ inputs: { messages: [{ role: "user", content: "I want a refund now" }] } })],
    miss: [
      run({ inputs: { messages: [{ role: "user", content: "I want a Refund" }] } }),
      run({ inputs: { messages: [{ role: "refund", content: "hello" }] } }),
    ],
  },
  {
    filter: 'and(eq(run_type, "llm"), eq(status, "error"))',
    from: NOTES,
    match: [run({ status: "error", error: "boom" })],
    miss: [run({ run_type: "tool", status: "error" }), run({ status: "success" })],
  },
  {
    filter: "eq(is_root, true)",
    from: NOTES,
    match: [run({ is_root: true })],
    miss: [run({ is_root: false, parent_run_id: "7d9e7c52-3f0a-4f0e-9b1d-1c2d3e4f5a6b" })],
  },
  {
    filter: 'and(eq(input_key, "input"), eq(input_value, "What is the capital of France?"))',
    from: UI,
    match: [run({ inputs: { input: "What is the capital of France?" } })],
    miss: [
      run({ inputs: { input: "What is the capital of Spain?" } }),
      run({ inputs: { question: "What is the capital of France?" } }),
    ],
  },
  {
    filter: 'and(eq(output_key, "documents.page_content"), eq(output_value, "The capital of France is Paris"))',
    from: UI,
    match: [
      run({
        outputs: { documents: [{ page_content: "The capital of France is Paris", metadata: {}, type: "Document" }] },
      }),
    ],
    miss: [run({ outputs: { documents: [{ page_content: "Paris", type: "Document" }] } })],
  },
  {
    filter: 'and(eq(output_key, "generations.message.kwargs.tool_calls.name"), eq(output_value, "Plan"))',
    from: UI,
    match: [
      run({
        outputs: {
          generations: [
            [{ text: "", message: { kwargs: { tool_calls: [{ name: "Plan", args: { steps: ["a"] } }] } } }],
          ],
          type: "LLMResult",
        },
      }),
    ],
    miss: [run({ outputs: { generations: [[{ message: { kwargs: { tool_calls: [{ name: "Search" }] } } }]] } })],
  },
  {
    filter:
      'and(eq(output_key, "generations.message.kwargs.tool_calls.args.steps"), like(output_value, "%LangGraph%"))',
    from: UI,
    match: [
      run({
        outputs: {
          generations: [
            [{ message: { kwargs: { tool_calls: [{ args: { steps: ["x", "Research LangGraph's nodes"] } }] } } }],
          ],
        },
      }),
    ],
    miss: [
      run({ outputs: { generations: [[{ message: { kwargs: { tool_calls: [{ args: { steps: ["x"] } }] } } }]] } }),
    ],
  },
  {
    filter: "and(eq(metadata_key, 'phone'), neq(metadata_value, '1234567890'))",
    from: UI,
    match: [withMetadata({ phone: "5550000" })],
    miss: [withMetadata({ phone: "1234567890" }), withMetadata({ mobile: "5550000" })],
  },
  {
    filter: "neq(metadata_key, 'phone')",
    from: UI,
    match: [withMetadata({ mobile: "1234567890" })],
    miss: [withMetadata({ phone: "x" })],
  },
  {
    filter: "and(neq(metadata_key, 'phone'), neq(metadata_value, '1234567890'))",
    from: UI,
    match: [withMetadata({ mobile: "5550000" })],
    miss: [withMetadata({ mobile: "1234567890" }), withMetadata({ phone: "5550000" })],
  },
  {
    filter: "and(neq(metadata_key, 'phone'), eq(metadata_value, '1234567890'))",
    from: UI,
    match: [withMetadata({ mobile: "1234567890" })],
    miss: [withMetadata({ phone: "1234567890" }), withMetadata({ mobile: "5550000" })],
  },
  {
    filter: 'eq(status, "success")',
    from: SKILL,
    match: [run({ status: "success" })],
    miss: [run({ status: "error" }), run({ status: undefined })],
  },
  {
    filter: 'neq(status, "error")',
    from: SKILL,
    match: [run({ status: "success" }), run({ status: "pending" })],
    miss: [run({ status: "error" })],
  },
  {
    filter: "gt(total_tokens, 10000)",
    from: SKILL,
    match: [run({ total_tokens: 10001 })],
    miss: [run({ total_tokens: 10000 }), run({ total_tokens: null })],
  },
  {
    filter: "gte(total_tokens, 10000)",
    from: SKILL,
    match: [run({ total_tokens: 10000 })],
    miss: [run({ total_tokens: 9999 })],
  },
  {
    filter: "lt(latency, 1000)",
    from: SKILL,
    match: [lasting(999)],
    miss: [lasting(1000)],
  },
  {
    filter: "lte(latency, 1000)",
    from: SKILL,
    match: [lasting(1000), lasting(0)],
    miss: [lasting(1000.5)],
  },
  {
    filter: 'has(tags, "production")',
    from: SKILL,
    match: [run({ tags: ["production"] })],
    miss: [run({ tags: ["prod"] }), run({ tags: [] })],
  },
  {
    filter: 'and(eq(status, "success"), gt(total_tokens, 1000))',
    from: SKILL,
    match: [run({ total_tokens: 1500 })],
    miss: [run({ total_tokens: 1500, status: "error" }), run({ total_tokens: 900 })],
  },
  {
    filter: 'and(eq(metadata_key, "job_id"), eq(metadata_value, "abc123"))',
    from: SKILL,
    match: [withMetadata({ job_id: "abc123" })],
    miss: [withMetadata({ job_id: "abc124" })],
  },
  {
    filter: 'has(metadata, "{\\"environment\\":\\"production\\",\\"user_id\\":\\"user123\\"}")',
    from: SKILL,
    match: [withMetadata({ environment: "production", user_id: "user123", other: 1 })],
    miss: [withMetadata({ environment: "production" }), withMetadata({ environment: "production", user_id: "u" })],
  },
  {
    filter: 'and(eq(run_type, "chain"), gt(latency, "10s"), gt(total_tokens, 5000))',
    from: "langsmith-cli FQL examples",
    match: [lasting(11, { run_type: "chain", total_tokens: 5001 })],
    miss: [lasting(10, { run_type: "chain", total_tokens: 5001 })],
  },
  {
    filter: "eq(run_type, 'tool')",
    from: `${EXPORT} (run type argument as a filter)`,
    match: [run({ run_type: "tool" })],
    miss: [run({ run_type: "llm" })],
  },
  {
    filter: "eq(is_root, false)",
    from: `${EXPORT} (is_root argument as a filter)`,
    match: [run({ is_root: false })],
    miss: [run({ is_root: true })],
  },
];

describe("filter strings from LangSmith's documentation", () => {
  it("has at least 40 of them", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => [c.filter, c] as const))("%s", (_name, c) => {
    for (const [i, subject] of c.match.entries()) expect(verdict(c.filter, subject), `match[${i}]`).toBe(true);
    for (const [i, subject] of c.miss.entries()) expect(verdict(c.filter, subject), `miss[${i}]`).toBe(false);
  });
});
