import { seededRandom, seededUuid } from "./random.js";

/** A tenant of the generated traffic and its projects (LangSmith sessions). */
export interface TrafficTenant {
  readonly id: string;
  readonly name: string;
  /** Relative share of the traces. */
  readonly weight: number;
  readonly projects: readonly { readonly id: string; readonly name: string }[];
}

export interface GeneratorOptions {
  readonly seed: number;
  /** At least this many runs are generated (whole traces, so a few more). */
  readonly runs: number;
  readonly tenants: readonly TrafficTenant[];
  /** Wall-clock ms the generated traces end around. */
  readonly now: number;
}

/** A LangSmith run as an SDK posts it once ended (the fields LangSmith's payload shows). */
export type GeneratedRun = Record<string, unknown> & { readonly id: string; readonly trace_id: string };

interface Model {
  readonly name: string;
  readonly className: string;
  readonly provider: string;
  /** Dollars per token. */
  readonly promptPrice: number;
  readonly completionPrice: number;
}

const MODELS: readonly Model[] = [
  { name: "gpt-4o", className: "ChatOpenAI", provider: "openai", promptPrice: 2.5e-6, completionPrice: 10e-6 },
  { name: "gpt-4o-mini", className: "ChatOpenAI", provider: "openai", promptPrice: 0.15e-6, completionPrice: 0.6e-6 },
  {
    name: "claude-3-5-sonnet-20241022",
    className: "ChatAnthropic",
    provider: "anthropic",
    promptPrice: 3e-6,
    completionPrice: 15e-6,
  },
  {
    name: "claude-3-opus-20240229",
    className: "ChatAnthropic",
    provider: "anthropic",
    promptPrice: 15e-6,
    completionPrice: 75e-6,
  },
];

const LLM_ERRORS = [
  "RateLimitError: Error code: 429 - Rate limit reached for requests",
  "APITimeoutError: Request timed out.",
  "BadRequestError: Error code: 400 - This model's maximum context length is 128000 tokens",
  "InternalServerError: Error code: 529 - Overloaded",
];

const QUESTIONS = [
  "How do I rotate my API key?",
  "Summarise the attached contract in three bullet points.",
  "Why was my card declined?",
  "Translate this paragraph to German.",
  "What is the refund policy for annual plans?",
  "Draft a reply to this customer complaint.",
];

/** LangSmith's timestamp format: naive UTC with microseconds. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "000");
}

/** LangSmith's dotted_order element: start time then run id. */
function dottedPart(ms: number, id: string): string {
  return `${new Date(ms).toISOString().replace(/[-:]/g, "").replace(".", "").replace("Z", "000Z")}${id}`;
}

/**
 * Realistic LangSmith-shaped traffic from a seed: RAG chains (retriever + LLM), agents (LLM, tool, LLM)
 * and single LLM calls, over several tenants and projects. Some LLM calls fail (and their chain with
 * them), some chains are slow (over 30 s), some calls are expensive (long contexts, big models); a share
 * of root runs is tagged `customer-facing` in prod. Runs come in the order an SDK posts them: a trace's
 * children end before its root. Pure: the same options give the same runs.
 */
export function generateRuns(options: GeneratorOptions): GeneratedRun[] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const totalWeight = options.tenants.reduce((s, t) => s + t.weight, 0);
  const pickTenant = () => {
    let r = random() * totalWeight;
    for (const t of options.tenants) if ((r -= t.weight) < 0) return t;
    return options.tenants[options.tenants.length - 1]!;
  };

  const runs: GeneratedRun[] = [];
  while (runs.length < options.runs) {
    const tenant = pickTenant();
    const project = pick(tenant.projects);
    const traceId = seededUuid(random);
    const env = random() < 0.8 ? "prod" : "staging";
    const userId = `user-${Math.floor(random() * 500)}`;
    const question = pick(QUESTIONS);
    const kind = random();
    const slow = random() < 0.06;
    const end = options.now - between(0, 1500);
    const base = (extra: Record<string, unknown>) => ({
      session_id: project.id,
      tenant_id: tenant.id,
      trace_id: traceId,
      extra: {
        metadata: { env, user_id: userId, project: project.name, ...extra },
        runtime: { sdk: "langsmith-py", sdk_version: "0.1.147" },
      },
    });

    const llm = (
      parent: { id: string; dotted: string; ids: string[] } | undefined,
      startMs: number,
    ): GeneratedRun & { _end: number; _tokens: number; _cost: number; _error?: string } => {
      const model = random() < 0.08 ? MODELS[3]! : pick(MODELS.slice(0, 3));
      const longContext = random() < 0.04;
      const prompt = Math.floor(longContext ? between(25_000, 120_000) : between(150, 3500));
      const failed = random() < 0.05;
      const completion = failed ? 0 : Math.floor(between(20, 900));
      const duration = (slow ? between(8, 40) : between(0.3, 4.5)) * 1000;
      const id = seededUuid(random);
      const endMs = startMs + duration;
      const promptCost = failed ? 0 : prompt * model.promptPrice;
      const completionCost = completion * model.completionPrice;
      const error = failed ? pick(LLM_ERRORS) : undefined;
      return {
        id,
        name: model.className,
        run_type: "llm",
        status: failed ? "error" : "success",
        error: error ?? null,
        start_time: stamp(startMs),
        end_time: stamp(endMs),
        first_token_time: failed ? null : stamp(startMs + Math.min(duration, between(200, 900))),
        dotted_order: parent ? `${parent.dotted}.${dottedPart(startMs, id)}` : dottedPart(startMs, id),
        parent_run_id: parent?.id ?? null,
        parent_run_ids: parent ? parent.ids : [],
        is_root: parent === undefined,
        inputs: { messages: [[{ type: "human", data: { content: question } }]] },
        outputs: failed
          ? null
          : { generations: [[{ text: "…", type: "ChatGeneration" }]], llm_output: { model_name: model.name } },
        ...base({ ls_provider: model.provider, ls_model_name: model.name, ls_model_type: "chat" }),
        tags: parent ? [] : pick([["customer-facing"], ["internal"], []]),
        prompt_tokens: failed ? 0 : prompt,
        completion_tokens: completion,
        total_tokens: failed ? 0 : prompt + completion,
        prompt_cost: Number(promptCost.toFixed(6)),
        completion_cost: Number(completionCost.toFixed(6)),
        total_cost: Number((promptCost + completionCost).toFixed(6)),
        _end: endMs,
        _tokens: failed ? 0 : prompt + completion,
        _cost: promptCost + completionCost,
        ...(error === undefined ? {} : { _error: error }),
      };
    };

    if (kind < 0.3) {
      const run = llm(undefined, end - between(0.5, 4) * 1000);
      const { _end, _tokens, _cost, _error, ...clean } = run;
      runs.push({ ...clean, end_time: stamp(end), session_id: project.id });
      continue;
    }
    // A chain (RAG or agent) and its children.
    const rootId = seededUuid(random);
    const chainDuration = (slow ? between(31, 95) : between(1.2, 9)) * 1000;
    const rootStart = end - chainDuration;
    const rootDotted = dottedPart(rootStart, rootId);
    const parent = { id: rootId, dotted: rootDotted, ids: [rootId] };
    const rag = kind < 0.7;
    const children: GeneratedRun[] = [];
    let tokens = 0;
    let cost = 0;
    let error: string | undefined;
    let cursor = rootStart + between(5, 60);
    const stepsPlan: ("retriever" | "llm" | "tool")[] = rag ? ["retriever", "llm"] : ["llm", "tool", "llm"];
    for (const step of stepsPlan) {
      if (error !== undefined) break;
      if (step === "llm") {
        const run = llm(parent, cursor);
        const { _end, _tokens, _cost, _error, ...clean } = run;
        const childEnd = Math.min(_end, end - 5);
        children.push({ ...clean, end_time: stamp(childEnd) });
        tokens += _tokens;
        cost += _cost;
        error = _error;
        cursor = childEnd + between(1, 30);
      } else {
        const id = seededUuid(random);
        const duration = between(40, step === "retriever" ? 600 : 2500);
        const childEnd = Math.min(cursor + duration, end - 5);
        children.push({
          id,
          name:
            step === "retriever" ? "VectorStoreRetriever" : pick(["search_orders", "get_weather", "lookup_invoice"]),
          run_type: step,
          status: "success",
          error: null,
          start_time: stamp(cursor),
          end_time: stamp(childEnd),
          dotted_order: `${rootDotted}.${dottedPart(cursor, id)}`,
          parent_run_id: rootId,
          parent_run_ids: [rootId],
          is_root: false,
          inputs: { query: question },
          outputs:
            step === "retriever"
              ? { documents: [{ page_content: "…", metadata: { source: "kb/faq.md" } }] }
              : { output: "ok" },
          ...base({}),
          tags: [],
        });
        cursor = childEnd + between(1, 30);
      }
    }
    runs.push(...children);
    runs.push({
      id: rootId,
      name: rag ? "RetrievalQA" : "AgentExecutor",
      run_type: "chain",
      status: error === undefined ? "success" : "error",
      error: error ?? null,
      start_time: stamp(rootStart),
      end_time: stamp(end),
      dotted_order: rootDotted,
      parent_run_id: null,
      parent_run_ids: [],
      child_run_ids: children.map((c) => c.id),
      direct_child_run_ids: children.map((c) => c.id),
      is_root: true,
      inputs: { question },
      outputs: error === undefined ? { answer: "…" } : null,
      ...base({}),
      tags: pick([["customer-facing"], ["customer-facing", "rag"], ["internal"], []]),
      total_tokens: tokens,
      total_cost: Number(cost.toFixed(6)),
    });
  }
  return runs;
}
