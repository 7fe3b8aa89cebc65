import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { startApi, type RunningApi } from "@runhooks/api";
import { countPendingOutbox } from "@runhooks/db";
import { startDelivery, type Delivery } from "@runhooks/delivery";
import { startEvaluator, type Evaluator } from "@runhooks/evaluator";
import type { Ingest } from "@runhooks/ingest";
import { Client } from "langsmith";
import { getCurrentRunTree, traceable } from "langsmith/traceable";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { createIngestHarness, silent, type IngestHarness } from "./harness.js";
import { TEST_SECRETS } from "../../../test/support/stack.js";

interface Received {
  readonly path: string;
  readonly body: { rule_id: string; runs: Record<string, unknown>[] };
}

/** What the SDK's run tree held for a run once it ended: the values the webhook must show. */
interface Sent {
  id: string;
  trace_id: string;
  dotted_order: string;
  parent_run_id: string | undefined;
  run_type: string;
  error: string | undefined;
  metadata: Record<string, unknown>;
}

describe("the real langsmith SDK → ingest → evaluator → delivery → webhook", () => {
  let h: IngestHarness;
  let ingest: Ingest;
  let api: RunningApi;
  let evaluator: Evaluator;
  let delivery: Delivery;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];

  beforeAll(async () => {
    h = await createIngestHarness("sdk");
    ingest = await h.start();
    receiver = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        received.push({ path: req.url ?? "", body: JSON.parse(text) as Received["body"] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const brokers = inject("kafkaBrokers");
    api = await startApi({
      secrets: TEST_SECRETS,
      databaseUrl: h.database.url,
      kafkaBrokers: brokers,
      topicPrefix: h.prefix,
      port: 0,
      migrate: false,
      relay: { pollIntervalMs: 100 },
    });
    evaluator = await startEvaluator({
      brokers,
      topicPrefix: h.prefix,
      groupId: `${h.prefix}-evaluator`,
      instanceId: "sdk-e2e",
      maxRunBytes: 512 * 1024,
      tickIntervalMs: 100,
      log: silent,
    });
    delivery = await startDelivery({
      secrets: TEST_SECRETS,
      brokers,
      databaseUrl: h.database.url,
      topicPrefix: h.prefix,
      groupId: `${h.prefix}-delivery`,
      instanceId: "sdk-e2e",
      allowPrivate: true,
      migrate: false,
      pollMs: 50,
      log: silent,
    });
  });

  afterAll(async () => {
    await delivery?.stop();
    await evaluator?.stop();
    await api?.close();
    await h?.close();
    await new Promise((r) => receiver?.close(r));
  });

  async function createRule(name: string, filter: unknown, path: string, sessionId?: string): Promise<string> {
    const response = await fetch(`${api.url}/rules`, {
      method: "POST",
      headers: { "x-api-key": h.apiKey, "content-type": "application/json" },
      body: JSON.stringify({
        display_name: name,
        ...(sessionId === undefined ? {} : { session_id: sessionId }),
        enabled: true,
        filter,
        sampling_rate: 1,
        window: { seconds: 1, max_runs: 100 },
        webhooks: [{ url: `${receiverUrl}${path}` }],
      }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return ((await response.json()) as { rule: { id: string } }).rule.id;
  }

  it("delivers the runs of a traced program with the ids, tree, status, error, metadata and tokens the SDK sent", async () => {
    const nonce = randomUUID();
    const client = new Client({ apiUrl: ingest.url, apiKey: h.apiKey });
    // The project, as a LangSmith user finds it: created by the SDK, its id read back (readProject).
    const projectName = `runhooks-e2e-${nonce}`;
    await client.createProject({ projectName });
    const project = await client.readProject({ projectName });
    const errorsRule = await createRule(
      "tool errors",
      { and: [{ "==": [{ var: "run_type" }, "tool"] }, { "==": [{ var: "status" }, "error"] }] },
      "/errors",
      project.id,
    );
    const traceRule = await createRule("this trace", { "==": [{ var: "metadata.e2e" }, nonce] }, "/trace");

    // Runs are judged by the rule versions in force when they land: wait until the relay published both.
    while ((await countPendingOutbox(h.database.db)) > 0) await new Promise((r) => setTimeout(r, 50));

    const sent = new Map<string, Sent>();
    const trees: { name: string; tree: NonNullable<ReturnType<typeof getCurrentRunTree>> }[] = [];
    const remember = (name: string) => trees.push({ name, tree: getCurrentRunTree() });
    const common = { client, project_name: projectName, tracingEnabled: true, metadata: { e2e: nonce } };

    const llm = traceable(
      (prompt: string) => {
        remember("llm");
        return { content: `echo: ${prompt}`, usage_metadata: { input_tokens: 11, output_tokens: 7, total_tokens: 18 } };
      },
      { ...common, name: "fake-llm", run_type: "llm", metadata: { ...common.metadata, ls_model_name: "fake-1" } },
    );
    const tool = traceable(
      async (query: string): Promise<string> => {
        remember("tool");
        await Promise.resolve();
        throw new Error(`tool broke on ${query}`);
      },
      { ...common, name: "search-tool", run_type: "tool" },
    );
    const chain = traceable(
      async (question: string) => {
        remember("chain");
        const answer = await llm(question);
        try {
          await tool(answer.content);
        } catch {
          // The chain survives its tool's failure: only the tool run is an error.
        }
        return { answer: answer.content };
      },
      { ...common, name: "qa-chain", run_type: "chain", metadata: { ...common.metadata, user: "ada" } },
    );
    await chain("what is runhooks?");
    await client.awaitPendingTraceBatches();

    for (const { name, tree } of trees) {
      sent.set(name, {
        id: tree.id,
        trace_id: tree.trace_id,
        dotted_order: tree.dotted_order,
        parent_run_id: tree.parent_run?.id ?? tree.parent_run_id,
        run_type: tree.run_type,
        error: tree.error,
        metadata: tree.extra["metadata"] as Record<string, unknown>,
      });
    }
    expect([...sent.keys()].sort()).toEqual(["chain", "llm", "tool"]);

    const deadline = Date.now() + 45_000;
    const runsAt = (path: string) => received.filter((r) => r.path === path).flatMap((r) => r.body.runs);
    while ((runsAt("/trace").length < 3 || runsAt("/errors").length < 1) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const errorRuns = runsAt("/errors");
    expect(errorRuns.map((r) => r["id"])).toEqual([sent.get("tool")!.id]);
    expect(received.find((r) => r.path === "/errors")!.body.rule_id).toBe(errorsRule);
    expect(received.find((r) => r.path === "/trace")!.body.rule_id).toBe(traceRule);

    const delivered = new Map(runsAt("/trace").map((r) => [r["id"] as string, r]));
    expect(delivered.size).toBe(3);
    for (const [name, s] of sent) {
      const run = delivered.get(s.id);
      expect(run, name).toBeDefined();
      expect(run!["trace_id"], name).toBe(s.trace_id);
      expect(run!["dotted_order"], name).toBe(s.dotted_order);
      expect(run!["parent_run_id"] ?? undefined, name).toBe(s.parent_run_id);
      expect(run!["run_type"], name).toBe(s.run_type);
      expect(run!["error"] ?? undefined, name).toBe(s.error);
      expect(run!["status"], name).toBe(s.error === undefined ? "success" : "error");
      expect(run!["tenant_id"], name).toBe(h.tenantId);
      expect(typeof run!["end_time"], name).toBe("string");
      expect((run!["extra"] as { metadata: unknown }).metadata, name).toMatchObject(s.metadata);
      expect(run!["session_id"], name).toBe(project.id);
      expect(run!["parent_run_ids"], name).toEqual(s.parent_run_id === undefined ? [] : [sent.get("chain")!.id]);
    }
    const chainRun = delivered.get(sent.get("chain")!.id)!;
    expect(chainRun["parent_run_id"] ?? null).toBeNull();
    expect(chainRun["trace_id"]).toBe(sent.get("chain")!.id);
    expect((chainRun["extra"] as { metadata: Record<string, unknown> }).metadata["user"]).toBe("ada");
    const llmRun = delivered.get(sent.get("llm")!.id)!;
    expect(llmRun["parent_run_id"]).toBe(sent.get("chain")!.id);
    expect([llmRun["prompt_tokens"], llmRun["completion_tokens"], llmRun["total_tokens"]]).toEqual([11, 7, 18]);
    expect((llmRun["outputs"] as { usage_metadata: unknown }).usage_metadata).toEqual({
      input_tokens: 11,
      output_tokens: 7,
      total_tokens: 18,
    });
    const toolRun = delivered.get(sent.get("tool")!.id)!;
    expect(toolRun["error"]).toContain("tool broke on echo: what is runhooks?");
    // Each run reached the runs topic exactly once, merged (the SDK posts at start, patches at end).
    expect(h.runs.filter((r) => delivered.has(r.run["id"] as string)).length).toBe(3);
    expect(ingest.counters.runs_produced).toBeGreaterThanOrEqual(3);
    // The SDK read /info and used the multipart endpoint with gzip bodies.
    expect(ingest.counters.requests.get("/runs/multipart 202")?.count).toBeGreaterThan(0);
    expect(ingest.counters.encodings.get("gzip")).toBeGreaterThan(0);
  }, 90_000);
  it("delivers exactly the errored LLM runs of a project to a rule made through LangSmith's rules API", async () => {
    const nonce = randomUUID();
    // The SDK as a self-hosted LangSmith user points it: at the /api/v1 prefix.
    const client = new Client({ apiUrl: `${ingest.url}/api/v1`, apiKey: h.apiKey });
    const common = { client, tracingEnabled: true, metadata: { e2e: nonce } };
    const survive = async (call: () => unknown): Promise<void> => {
      try {
        await call();
      } catch {
        // expected: the child failed on purpose
      }
    };
    const llmIn = (project: string, fails: boolean) =>
      traceable(
        (prompt: string) => {
          if (fails) throw new Error(`model overloaded on ${prompt}`);
          return { content: `echo: ${prompt}`, usage_metadata: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } };
        },
        { ...common, project_name: project, name: fails ? "failing-llm" : "fine-llm", run_type: "llm" },
      );
    const program = (project: string) =>
      traceable(
        async (question: string) => {
          await llmIn(project, false)(question);
          // The chain survives its children's failures: only they are errors.
          await survive(() => llmIn(project, true)(question));
          const tool = traceable(
            (): string => {
              throw new Error("tool broke");
            },
            { ...common, project_name: project, name: "broken-tool", run_type: "tool" },
          );
          await survive(() => tool());
          return { done: true };
        },
        { ...common, project_name: project, name: "support-chain", run_type: "chain" },
      );

    // 1. The program's first trace creates the project, as in LangSmith; its id is read back.
    await program("support-bot")("warm up");
    await client.awaitPendingTraceBatches();
    const project = await client.readProject({ projectName: "support-bot" });
    expect(project.name).toBe("support-bot");

    // 2. The rule, as a LangSmith user writes it: the project's session_id, a filter string.
    const created = await fetch(`${api.url}/api/v1/runs/rules`, {
      method: "POST",
      headers: { "x-api-key": h.apiKey, "content-type": "application/json" },
      body: JSON.stringify({
        display_name: "LLM errors in support-bot",
        session_id: project.id,
        sampling_rate: 1,
        filter: 'and(eq(run_type, "llm"), eq(status, "error"))',
        webhooks: [{ url: `${receiverUrl}/ls-errors` }],
      }),
    });
    expect(created.status, await created.clone().text()).toBe(200);
    const rule = (await created.json()) as { id: string; session_name: string | null };
    expect(rule.session_name).toBe("support-bot");
    while ((await countPendingOutbox(h.database.db)) > 0) await new Promise((r) => setTimeout(r, 50));

    // 3. Another project's errored LLM run first, then support-bot's trace: a window holding the
    // first would end no later than the one holding the second, and be stored no later.
    await program("other-bot")("elsewhere");
    await client.awaitPendingTraceBatches();
    await program("support-bot")("refund please");
    await client.awaitPendingTraceBatches();

    const deadline = Date.now() + 45_000;
    const runs = () => received.filter((r) => r.path === "/ls-errors").flatMap((r) => r.body.runs);
    while (runs().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(runs().map((r) => [r["name"], r["session_id"]])).toEqual([["failing-llm", project.id]]);
    const run = runs()[0]!;
    expect(run["status"]).toBe("error");
    expect(run["parent_run_ids"]).toEqual([run["trace_id"]]);
    expect(run["parent_run_id"]).toBe(run["trace_id"]);
    const listed = await fetch(`${api.url}/deliveries?rule_id=${rule.id}`, { headers: { "x-api-key": h.apiKey } });
    expect(((await listed.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(1);
  }, 90_000);
});
