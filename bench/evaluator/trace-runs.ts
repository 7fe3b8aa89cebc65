import { randomUUID } from "node:crypto";
import { mulberry32 } from "../../test/support/random.js";

const SESSION = "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5";

interface Trace {
  readonly id: string;
  readonly tenant: string;
  readonly vip: boolean;
  /** Children still to come; the root follows the last. */
  left: number;
  /** 1 in 100 never ends: its candidates wait out the horizon. */
  readonly endless: boolean;
}

/**
 * Runs in the order they end: `open` traces in progress at once; each step picks one at random and
 * emits its next child, or its root once its children are done (then a new trace takes its place).
 */
export function traceStream(open: number, seed: number, tenants: readonly string[]) {
  const random = mulberry32(seed);
  let i = 0;
  const fresh = (): Trace => ({
    id: randomUUID(),
    tenant: tenants[Math.floor(random() * tenants.length)]!,
    vip: random() < 0.3,
    left: 5 + Math.floor(random() * 16),
    endless: random() < 0.01,
  });
  const pool = Array.from({ length: open }, fresh);
  return (): { key: string; value: string } => {
    const slot = Math.floor(random() * pool.length);
    const t = pool[slot]!;
    const isRoot = t.left === 0;
    if (isRoot || (t.endless && t.left === 1)) pool[slot] = fresh();
    else t.left--;
    const n = i++;
    const id = isRoot ? t.id : randomUUID();
    const kind = isRoot ? 3 : Math.floor(random() * 3);
    const runType = ["llm", "retriever", "tool", "chain"][kind]!;
    const error = !isRoot && random() < 0.1;
    const empty = runType === "retriever" && random() < 0.2;
    const start = Date.now() - 2000 - (n % 5000);
    return {
      key: t.id,
      value: JSON.stringify({
        id,
        trace_id: t.id,
        name: ["ChatOpenAI", "Retriever", "Search", "AgentExecutor"][kind],
        run_type: runType,
        status: error ? "error" : "success",
        error: error ? "RateLimitError: too many requests" : null,
        start_time: new Date(start).toISOString(),
        end_time: new Date(start + (n % 7000)).toISOString(),
        tenant_id: t.tenant,
        session_id: SESSION,
        dotted_order: `20240405T012854085646Z${id}`,
        parent_run_id: isRoot ? null : t.id,
        is_root: isRoot,
        tags: isRoot && t.vip ? ["vip", "bench"] : [`tag-${n % 20}`, "bench"],
        extra: { metadata: { env: n % 2 ? "prod" : "staging", customer: `c-${n % 50}` } },
        inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(8) }] },
        outputs: empty
          ? { documents: [] }
          : { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(8) }] },
        total_tokens: n % 2000,
        total_cost: (n % 2000) * 0.000002,
        feedback_stats: null,
      }),
    };
  };
}
