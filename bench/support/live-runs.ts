// Live traffic for the latency benches: runs produced at a steady rate, each with its Kafka append time.
import { randomUUID } from "node:crypto";
import type { RunsProducer } from "@runhooks/cli";

/** A live run of ~0.9 KB; `metadata.bucket` (0–99) is what the benches' rules match on. */
export function liveRun(tenantId: string, i: number, now: number) {
  const id = randomUUID();
  return {
    id,
    trace_id: id,
    name: i % 3 === 0 ? "RetrievalQA" : "ChatOpenAI",
    run_type: i % 3 === 0 ? "chain" : "llm",
    status: "success",
    start_time: new Date(now - 1500).toISOString(),
    end_time: new Date(now).toISOString(),
    tenant_id: tenantId,
    session_id: "6a3be6a2-9a8c-4fc8-b4c6-a8983b286cc5",
    dotted_order: `20240405T012854085646Z${id}`,
    is_root: true,
    tags: ["bench"],
    // 37 is coprime to 100: every 100 runs of a tenant visit every bucket, so matches are spread evenly in time.
    extra: { metadata: { env: "prod", bucket: (i * 37) % 100, ls_model_name: "gpt-4o-mini" } },
    inputs: { messages: [{ role: "user", content: "Summarise the quarterly report for the board. ".repeat(4) }] },
    outputs: { generations: [{ text: "The quarter closed with revenue up and costs flat. ".repeat(4) }] },
    total_tokens: 800 + (i % 2000),
    total_cost: 0.0012,
  };
}

export type LiveRun = ReturnType<typeof liveRun>;

export interface PacedOptions {
  readonly producer: RunsProducer;
  readonly rate: number;
  /** The `i`-th run to send (sent at `now`). */
  readonly make: (i: number, now: number) => LiveRun;
  /** Told of each run appended, with its append time. */
  readonly appended: (run: LiveRun, appendTime: number) => void;
  /** Produces until this returns true (checked before every send), or `total` runs are sent. */
  readonly done: (sent: number) => boolean;
  readonly total?: number;
}

export interface PacedResult {
  readonly sent: number;
  readonly seconds: number;
  /** Sends that took longer than their slot (the producer fell behind the rate meanwhile). */
  readonly late: number;
  readonly slotMs: number;
}

/** Produces runs at `rate`/s in sends every 20 ms (each at most 400 runs: a stalled loop catches up). */
export async function produceAtRate(o: PacedOptions): Promise<PacedResult> {
  const tickMs = 20;
  const started = Date.now();
  let sent = 0;
  let late = 0;
  const total = o.total ?? Number.POSITIVE_INFINITY;
  while (sent < total && !o.done(sent)) {
    const due = Math.min(
      total,
      sent + 400,
      Math.floor(((Date.now() - started) / 1000) * o.rate) + Math.ceil((o.rate * tickMs) / 1000),
    );
    const now = Date.now();
    const batch: LiveRun[] = [];
    for (; sent < due; sent++) batch.push(o.make(sent, now));
    const sendStart = Date.now();
    const times = await o.producer.send(batch.map((r) => ({ id: r.id, key: r.trace_id, json: JSON.stringify(r) })));
    for (const r of batch) {
      const t = times.get(r.id);
      if (t !== undefined) o.appended(r, t);
    }
    if (Date.now() - sendStart > tickMs) late++;
    await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - sendStart))));
  }
  return { sent, seconds: (Date.now() - started) / 1000, late, slotMs: tickMs };
}
