import { randomUUID } from "node:crypto";
import { createApiKey, createTenant } from "@runhooks/db";
import type { Ingest } from "@runhooks/ingest";
import { DEFAULT_PROJECT_NAME, projectId } from "@runhooks/rules";
import { Client } from "langsmith";
import { getCurrentRunTree, traceable } from "langsmith/traceable";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestHarness, type IngestHarness, type RunRecord } from "./harness.js";
import { completeRun } from "./run-fixture.js";

/** What the SDK's run tree held for a run: the ids its ancestors and project must show. */
interface Traced {
  id: string;
  ancestors: string[];
}

/** Every run tree of a traced call, by function name, with its ancestors' ids (root first). */
function recorder() {
  const traced = new Map<string, Traced>();
  const remember = (name: string) => {
    const tree = getCurrentRunTree();
    const ancestors: string[] = [];
    for (let p = tree.parent_run; p !== undefined; p = p.parent_run) ancestors.unshift(p.id);
    traced.set(name, { id: tree.id, ancestors });
  };
  return { traced, remember };
}

/**
 * A traced program as users write one: a chain calls an LLM that reports its usage (as the SDK's
 * wrappers do), then a tool that calls a streaming LLM (new_token events) and an LLM answering in
 * LangChain's shape (`llm_output.token_usage`).
 */
async function tracedProgram(client: Client, project: string): Promise<Map<string, Traced>> {
  const { traced, remember } = recorder();
  const common = { client, project_name: project, tracingEnabled: true };
  const llm = traceable(
    (prompt: string) => {
      remember("llm");
      return { content: `echo: ${prompt}`, usage_metadata: { input_tokens: 11, output_tokens: 7, total_tokens: 18 } };
    },
    { ...common, name: "fake-llm", run_type: "llm" },
  );
  const streaming = traceable(
    async function* (prompt: string) {
      remember("streaming");
      for (const word of prompt.split(" ")) {
        await Promise.resolve();
        yield word;
      }
    },
    { ...common, name: "streaming-llm", run_type: "llm" },
  );
  const legacy = traceable(
    () => {
      remember("legacy");
      return {
        generations: [[{ text: "ok" }]],
        llm_output: { token_usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
      };
    },
    { ...common, name: "langchain-llm", run_type: "llm" },
  );
  const tool = traceable(
    async (query: string) => {
      remember("tool");
      const words: string[] = [];
      for await (const word of streaming(query)) words.push(word);
      await legacy();
      return words.join(" ");
    },
    { ...common, name: "search-tool", run_type: "tool" },
  );
  const chain = traceable(
    async (question: string) => {
      remember("chain");
      const answer = await llm(question);
      return { answer: await tool(answer.content) };
    },
    { ...common, name: "qa-chain", run_type: "chain" },
  );
  await chain("what is runhooks");
  await client.awaitPendingTraceBatches();
  return traced;
}

describe("projects: ingest resolves session_name to session_id and answers /sessions as LangSmith does", () => {
  let h: IngestHarness;
  let ingest: Ingest;
  let other: { tenantId: string; key: string };

  beforeAll(async () => {
    h = await createIngestHarness("projects");
    ingest = await h.start();
    const tenant = await createTenant(h.database.db, { name: "projects-other" });
    if (!tenant.ok) throw new Error("tenant exists");
    const key = await createApiKey(h.database.db, tenant.tenant.id, "other");
    if (!key) throw new Error("no key");
    other = { tenantId: tenant.tenant.id, key: key.key };
  });
  afterAll(async () => {
    await h?.close();
  });

  const runsOf = (ids: Iterable<string>): Map<string, Record<string, unknown>> => {
    const wanted = new Set(ids);
    return new Map(h.runs.filter((r) => wanted.has(r.run["id"] as string)).map((r) => [r.run["id"] as string, r.run]));
  };
  const waitFor = (ids: string[]) =>
    h.waitForRuns((runs: readonly RunRecord[]) => ids.every((id) => runs.some((r) => r.run["id"] === id)));
  const call = async (path: string, key = h.apiKey, init: RequestInit = {}) => {
    const response = await fetch(`${ingest.url}${path}`, { ...init, headers: { "x-api-key": key, ...init.headers } });
    return { status: response.status, body: await response.json() };
  };

  it.each([
    ["the root", ""],
    ["/api/v1 (self-hosted LangSmith's form)", "/api/v1"],
  ])(
    "the SDK pointed at %s: runs carry session_id, parent_run_ids, tokens, first_token_time; readProject finds the project",
    async (_form, prefix) => {
      const project = `support-bot-${randomUUID().slice(0, 8)}`;
      // The paths the SDK asked for: all under the prefix given.
      const paths: string[] = [];
      const client = new Client({
        apiUrl: `${ingest.url}${prefix}`,
        apiKey: h.apiKey,
        fetchImplementation: (input: string | URL | Request, init?: RequestInit) => {
          paths.push(new URL(input instanceof Request ? input.url : input).pathname);
          return fetch(input, init);
        },
      });
      const traced = await tracedProgram(client, project);
      const ids = [...traced.values()].map((t) => t.id);
      await waitFor(ids);
      const runs = runsOf(ids);
      const sessionId = projectId(h.tenantId, project);
      for (const [name, t] of traced) {
        const run = runs.get(t.id)!;
        expect(run["session_id"], name).toBe(sessionId);
        expect(run["session_name"], name).toBe(project);
        expect(run["parent_run_ids"], name).toEqual(t.ancestors);
      }
      expect(traced.get("legacy")!.ancestors).toHaveLength(2);
      const tokens = (name: string) => {
        const run = runs.get(traced.get(name)!.id)!;
        return [run["prompt_tokens"], run["completion_tokens"], run["total_tokens"]];
      };
      expect(tokens("llm")).toEqual([11, 7, 18]);
      expect(tokens("legacy")).toEqual([5, 2, 7]);
      expect(tokens("chain")).toEqual([undefined, undefined, undefined]);
      // The streaming run's first new_token event, as the SDK timed it.
      const streamed = runs.get(traced.get("streaming")!.id)!;
      const tokenTimes = (streamed["events"] as { name: string; time: string }[])
        .filter((e) => e.name === "new_token")
        .map((e) => e.time);
      expect(tokenTimes.length).toBe("echo: what is runhooks".split(" ").length);
      expect(streamed["first_token_time"]).toBe([...tokenTimes].sort()[0]);
      expect(runs.get(traced.get("llm")!.id)!["first_token_time"]).toBeUndefined();

      // The project exists, under the id every run carries, for the SDK's project calls.
      const read = await client.readProject({ projectName: project });
      expect(read).toMatchObject({ id: sessionId, name: project, tenant_id: h.tenantId });
      expect(typeof read.start_time).toBe("string");
      expect(await client.readProject({ projectId: sessionId })).toMatchObject({ id: sessionId, name: project });
      expect(await client.hasProject({ projectName: project })).toBe(true);
      expect(await client.hasProject({ projectName: `${project}-never` })).toBe(false);
      const listed: string[] = [];
      for await (const p of client.listProjects({ nameContains: project.toUpperCase() })) listed.push(p.id);
      expect(listed).toEqual([sessionId]);
      expect(paths).toContain(`${prefix}/runs/multipart`);
      expect(paths).toContain(`${prefix}/sessions`);
      expect(paths.every((p) => p.startsWith(`${prefix}/`))).toBe(true);
      expect(paths.some((p) => p.startsWith("/api/v1/"))).toBe(prefix !== "");
    },
    60_000,
  );

  it("creates a project with the SDK's createProject, refuses it twice unless upserted", async () => {
    const client = new Client({ apiUrl: `${ingest.url}/api/v1`, apiKey: h.apiKey });
    const name = `created-${randomUUID().slice(0, 8)}`;
    const created = await client.createProject({ projectName: name, metadata: { team: "ml" }, description: "bot" });
    expect(created).toMatchObject({ id: projectId(h.tenantId, name), name, tenant_id: h.tenantId, description: "bot" });
    expect(await client.hasProject({ projectName: name })).toBe(true);
    await expect(client.createProject({ projectName: name })).rejects.toThrow(/409/);
    const again = await client.createProject({ projectName: name, upsert: true, description: "bot 2" });
    expect(again).toMatchObject({ id: created.id, description: "bot 2", extra: { metadata: { team: "ml" } } });
    const byMetadata: string[] = [];
    for await (const p of client.listProjects({ metadata: { team: "ml" } })) byMetadata.push(p.name!);
    expect(byMetadata).toContain(name);
    // Runs of it then carry its id.
    const run = completeRun({ session_name: name });
    expect((await call("/runs", h.apiKey, { method: "POST", body: JSON.stringify(run) })).status).toBe(202);
    await waitFor([run["id"] as string]);
    expect(runsOf([run["id"] as string]).get(run["id"] as string)!["session_id"]).toBe(created.id);
  });

  it("updates and deletes a project with the SDK; a run naming it again records it again", async () => {
    const client = new Client({ apiUrl: `${ingest.url}/api/v1`, apiKey: h.apiKey });
    const name = `changed-${randomUUID().slice(0, 8)}`;
    const created = await client.createProject({ projectName: name, description: "first" });
    const updated = await client.updateProject(created.id, {
      name,
      description: "second",
      metadata: { team: "search" },
    });
    expect(updated).toMatchObject({
      id: created.id,
      name,
      description: "second",
      extra: { metadata: { team: "search" } },
    });
    expect(await client.readProject({ projectId: created.id })).toMatchObject({ description: "second" });
    await expect(client.updateProject(created.id, { name: `${name}-renamed` })).rejects.toThrow(/400/);
    // Another tenant can neither change nor delete it.
    const otherClient = new Client({ apiUrl: `${ingest.url}/api/v1`, apiKey: other.key });
    await expect(otherClient.updateProject(created.id, { description: "theirs" })).rejects.toThrow(/404/);
    await expect(otherClient.deleteProject({ projectId: created.id })).rejects.toThrow(/404/);

    await client.deleteProject({ projectName: name });
    expect(await client.hasProject({ projectName: name })).toBe(false);
    await expect(client.deleteProject({ projectId: created.id })).rejects.toThrow(/404/);
    // A run naming it again records it again, with the same id.
    const run = completeRun({ session_name: name });
    expect((await call("/runs", h.apiKey, { method: "POST", body: JSON.stringify(run) })).status).toBe(202);
    await waitFor([run["id"] as string]);
    expect(await client.readProject({ projectName: name })).toMatchObject({ id: created.id, description: null });
  });

  it("keeps tenants apart: one tenant never reads another's projects, and one name makes two projects", async () => {
    const name = `shared-${randomUUID().slice(0, 8)}`;
    const mine = completeRun({ session_name: name });
    const theirs = completeRun({ session_name: name });
    expect((await call("/runs", h.apiKey, { method: "POST", body: JSON.stringify(mine) })).status).toBe(202);
    await waitFor([mine["id"] as string]);
    const myId = projectId(h.tenantId, name);

    const otherClient = new Client({ apiUrl: ingest.url, apiKey: other.key });
    await expect(otherClient.readProject({ projectName: name })).rejects.toThrow(/not found/);
    expect(await otherClient.hasProject({ projectName: name })).toBe(false);
    expect(await call(`/sessions/${myId}`, other.key)).toMatchObject({ status: 404 });
    expect(await call(`/api/v1/sessions?id=${myId}`, other.key)).toEqual({ status: 200, body: [] });

    expect((await call("/runs", other.key, { method: "POST", body: JSON.stringify(theirs) })).status).toBe(202);
    await waitFor([theirs["id"] as string]);
    const theirId = (await otherClient.readProject({ projectName: name })).id;
    expect(theirId).toBe(projectId(other.tenantId, name));
    expect(theirId).not.toBe(myId);
    expect(runsOf([theirs["id"] as string]).get(theirs["id"] as string)!["session_id"]).toBe(theirId);
    const mineListed = (await call("/sessions?limit=100", h.apiKey)).body as { id: string; tenant_id: string }[];
    expect(mineListed.map((p) => p.tenant_id).every((t) => t === h.tenantId)).toBe(true);
    expect(mineListed.map((p) => p.id)).not.toContain(theirId);
  });

  it("puts runs naming no project in LangSmith's default project, and leaves a producer's session_id alone", async () => {
    const unnamed = completeRun();
    const own = completeRun({ session_id: randomUUID() });
    const body = JSON.stringify({ post: [unnamed, own] });
    expect((await call("/runs/batch", h.apiKey, { method: "POST", body })).status).toBe(202);
    await waitFor([unnamed["id"] as string, own["id"] as string]);
    const runs = runsOf([unnamed["id"] as string, own["id"] as string]);
    const defaultId = projectId(h.tenantId, DEFAULT_PROJECT_NAME);
    expect(runs.get(unnamed["id"] as string)!["session_id"]).toBe(defaultId);
    expect(runs.get(unnamed["id"] as string)).not.toHaveProperty("session_name");
    expect(runs.get(own["id"] as string)!["session_id"]).toBe(own["session_id"]);
    expect(await call(`/sessions/${defaultId}`)).toMatchObject({ status: 200, body: { name: DEFAULT_PROJECT_NAME } });
    expect(await call(`/sessions/${own["session_id"] as string}`)).toMatchObject({ status: 404 });
  });

  it("refuses a session_name that is not a project name, naming the field, and accepts nothing", async () => {
    const good = completeRun({ session_name: "fine" });
    const bad = completeRun({ session_name: 12 });
    const answer = await call("/runs/batch", h.apiKey, { method: "POST", body: JSON.stringify({ post: [good, bad] }) });
    expect(answer).toMatchObject({ status: 400, body: { issues: [{ part: "post[1]", path: "session_name" }] } });
  });

  it("caps a tenant's projects: runs naming one more are refused, nothing of the request is accepted", async () => {
    const capped = await h.start({ maxProjectsPerTenant: 1 });
    const tenant = await createTenant(h.database.db, { name: "projects-capped" });
    if (!tenant.ok) throw new Error("tenant exists");
    const key = (await createApiKey(h.database.db, tenant.tenant.id, "capped"))!.key;
    const send = (runs: Record<string, unknown>[]) =>
      fetch(`${capped.url}/runs/batch`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ post: runs }),
      });
    expect((await send([completeRun({ session_name: "one" })])).status).toBe(202);
    const refused = completeRun({ session_name: "one" });
    const over = await send([refused, completeRun({ session_name: "two" })]);
    expect(over.status).toBe(403);
    expect(((await over.json()) as { message: string }).message).toContain("RUNHOOKS_INGEST_MAX_PROJECTS_PER_TENANT");
    // Runs of the existing project still pass.
    expect((await send([completeRun({ session_name: "one" })])).status).toBe(202);
    const listed = await fetch(`${capped.url}/sessions`, { headers: { "x-api-key": key } });
    expect(((await listed.json()) as { name: string }[]).map((p) => p.name)).toEqual(["one"]);
    expect(h.runs.some((r) => r.run["id"] === refused["id"])).toBe(false);
  });

  it("answers GET /sessions/:id and bad queries with clear errors", async () => {
    expect(await call("/sessions/not-a-uuid")).toMatchObject({ status: 400, body: { issues: [{ path: "id" }] } });
    expect(await call(`/sessions/${randomUUID()}`)).toMatchObject({ status: 404 });
    expect(await call("/sessions?limit=1000")).toMatchObject({ status: 400, body: { issues: [{ path: "limit" }] } });
    expect((await fetch(`${ingest.url}/api/v1/sessions`)).status).toBe(401);
    expect((await fetch(`${ingest.url}/api/v1/info`)).status).toBe(200);
  });
});
