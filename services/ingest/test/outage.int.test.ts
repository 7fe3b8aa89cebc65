import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "@runhooks/db";
import { defaultStateDir, readInfraEnv, startKafka, stopKafka } from "@runhooks/infra";
import type { Ingest } from "@runhooks/ingest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestHarness, type IngestHarness } from "./harness.js";
import { multipartBody, runParts } from "./multipart-body.js";
import { freePort } from "../../../test/support/net.js";

const env = readInfraEnv();

function run(ended: boolean): Record<string, unknown> {
  const id = randomUUID();
  return {
    id,
    name: "outage",
    run_type: "llm",
    start_time: "2026-01-01T00:00:00Z",
    ...(ended ? { end_time: "2026-01-01T00:00:02Z" } : {}),
    trace_id: id,
    inputs: { n: 1 },
  };
}

// A broker of its own (own state folder and ports), stopped and started again by the test, so the
// shared one stays up for everything else.
describe.skipIf(env.KAFKA_BROKERS !== undefined)("ingest while Kafka is unavailable", () => {
  let dir: string;
  let brokerOptions: Parameters<typeof startKafka>[0];
  let h: IngestHarness;
  let ingest: Ingest;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "runhooks-ingest-outage-"));
    await chmod(dir, 0o755);
    brokerOptions = {
      dir,
      version: env.RUNHOOKS_KAFKA_VERSION,
      port: await freePort(),
      controllerPort: await freePort(),
      heap: "256m",
      cacheDir: env.RUNHOOKS_KAFKA_CACHE_DIR ?? join(env.RUNHOOKS_STATE_DIR ?? defaultStateDir(), "kafka", "dist"),
      report: () => undefined,
    };
    const broker = await startKafka(brokerOptions);
    h = await createIngestHarness("outage", broker.brokers);
    ingest = await h.start({ produceTimeoutMs: 3000, retryAfterSeconds: 2 });
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    await stopKafka(dir);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  const post = async (parts: ReturnType<typeof runParts>) => {
    const { body, headers } = multipartBody(parts, { gzip: true });
    const response = await fetch(`${ingest.url}/runs/multipart`, {
      method: "POST",
      headers: { ...headers, "x-api-key": h.apiKey },
      body,
    });
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      body: (await response.json()) as { error?: string },
    };
  };

  it("answers 503 with Retry-After while the broker is down, and loses nothing that got a 2xx once it is back", async () => {
    const before = run(true);
    const pending = run(false);
    expect((await post(runParts("post", before))).status).toBe(202);
    expect((await post(runParts("post", pending))).status).toBe(202);

    await stopKafka(dir);
    const during = run(true);
    const refused = await post(runParts("post", during));
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe("2");
    expect(refused.body.error).toBe("kafka_unavailable");
    // Completing a stored run needs Kafka too: refused, and the stored part is kept.
    const completion = runParts("patch", {
      id: pending["id"],
      end_time: "2026-01-01T00:00:03Z",
      outputs: { done: true },
    });
    expect((await post(completion)).status).toBe(503);
    const row = (await h.database.db.query(
      sql`SELECT created IS NOT NULL AS has_create, produced_at FROM ingest_pending WHERE run_id = ${pending["id"] as string}`,
    )) as { has_create: boolean; produced_at: Date | null }[];
    expect(row).toEqual([{ has_create: true, produced_at: null }]);
    // A run that only needs Postgres (an incomplete create) is still stored.
    const meanwhile = run(false);
    expect((await post(runParts("post", meanwhile))).status).toBe(202);
    expect(ingest.counters.kafka_unavailable).toBe(2);

    await startKafka(brokerOptions);
    // A client retries what was refused, as the SDK does after Retry-After.
    for (const parts of [
      runParts("post", during),
      completion,
      runParts("patch", { id: meanwhile["id"], end_time: "2026-01-01T00:00:04Z" }),
    ]) {
      const deadline = Date.now() + 90_000;
      let status = 0;
      while (status !== 202 && Date.now() < deadline) {
        status = (await post(parts)).status;
        if (status !== 202) await new Promise((r) => setTimeout(r, 500));
      }
      expect(status).toBe(202);
    }

    // Every run that got a 2xx is on the topic; the one completed from its stored part once, merged.
    await h.waitForRuns(
      (runs) => [before, during, pending, meanwhile].every((r) => runs.some((x) => x.run["id"] === r["id"])),
      90_000,
    );
    for (const r of [before, during, pending, meanwhile]) {
      expect(h.runs.filter((x) => x.run["id"] === r["id"]).length, String(r["id"])).toBeGreaterThanOrEqual(1);
    }
    expect(h.runs.filter((x) => x.run["id"] === pending["id"])).toHaveLength(1);
    expect(h.runs.find((x) => x.run["id"] === pending["id"])!.run).toMatchObject({
      inputs: { n: 1 },
      outputs: { done: true },
      end_time: "2026-01-01T00:00:03Z",
    });
  }, 240_000);
});
