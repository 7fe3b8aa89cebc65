import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  defaultStateDir,
  kafkaStatus,
  postgresStatus,
  readInfraEnv,
  repoRoot,
  stopKafka,
  stopPostgres,
} from "@runhooks/infra";
import { topicSpecs } from "@runhooks/kafka";
import { freePort } from "../../test/support/net.js";

const env = readInfraEnv();

// The start command as a user runs it, in its own state folder and ports so it starts its own broker
// and database next to the ones the test run uses.
describe.skipIf(env.KAFKA_BROKERS !== undefined || env.DATABASE_URL !== undefined)("runhooks-infra start", () => {
  it("brings up Kafka, PostgreSQL and every service, says where they listen, and stops all on Ctrl-C", async () => {
    const state = await mkdtemp(join(tmpdir(), "runhooks-cli-"));
    // mkdtemp makes a private folder; the embedded server runs as the postgres user and must enter it.
    await chmod(state, 0o755);
    const kafkaPort = await freePort();
    const pgPort = await freePort();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=source", join(repoRoot, "infra/src/cli.ts"), "start"],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          RUNHOOKS_STATE_DIR: state,
          // Reuse the jars the test stack fetched instead of downloading them again.
          RUNHOOKS_KAFKA_CACHE_DIR: join(env.RUNHOOKS_STATE_DIR ?? defaultStateDir(), "kafka", "dist"),
          RUNHOOKS_KAFKA_PORT: String(kafkaPort),
          RUNHOOKS_KAFKA_CONTROLLER_PORT: String(await freePort()),
          RUNHOOKS_KAFKA_HEAP: "256m",
          RUNHOOKS_PG_PORT: String(pgPort),
          RUNHOOKS_RUNS_PARTITIONS: "2",
          // Every service on a free port, so this start sits next to anything else running here.
          RUNHOOKS_API_PORT: "0",
          RUNHOOKS_INGEST_PORT: "0",
          RUNHOOKS_EVALUATOR_PORT: "0",
          RUNHOOKS_DELIVERY_PORT: "0",
          RUNHOOKS_BACKFILL_PORT: "0",
          RUNHOOKS_ADMIN_KEY: "",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes("press Ctrl-C") && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(output).toContain(`Kafka       127.0.0.1:${kafkaPort}  (started)`);
      expect(output).toContain(`PostgreSQL  postgres://postgres:***@127.0.0.1:${pgPort}/runhooks  (started)`);
      // A fresh state folder: every topic runhooks declares is created.
      expect(output).toContain(`topics      ${topicSpecs().length} created, 0 verified`);
      expect(output).toMatch(/migrations {2}applied 1_tenants, 2_rules, 3_deliveries, 4_ingest_pending/);
      // Each service says where it listens, and answers there.
      for (const service of ["api", "ingest", "evaluator", "delivery", "backfill"]) {
        const url = new RegExp(`\\] ${service} +(http://127\\.0\\.0\\.1:\\d+)`).exec(output)?.[1];
        expect(url, `${service}'s address in:\n${output}`).toBeDefined();
        const health = await fetch(`${url}/healthz`);
        expect(health.status, `${service} /healthz`).toBe(200);
      }
      // A generated admin key, kept in the state folder and never printed.
      const adminKey = (await readFile(join(state, "admin-key"), "utf8")).trim();
      expect(adminKey).toMatch(/^rhadm_/);
      expect(output).not.toContain(adminKey);
      const apiUrl = /\] api +(http:\/\/\S+)/.exec(output)?.[1];
      const tenant = await fetch(`${apiUrl}/admin/tenants`, {
        method: "POST",
        headers: { "x-api-key": adminKey, "content-type": "application/json" },
        body: JSON.stringify({ name: "cli-test" }),
      });
      expect(tenant.status).toBe(201);
      expect((await kafkaStatus(join(state, "kafka"))).running).toBe(true);
      expect((await postgresStatus(join(state, "postgres"))).running).toBe(true);

      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(output).toContain("Kafka stopped");
      expect(output).toContain("PostgreSQL stopped");
      expect((await kafkaStatus(join(state, "kafka"))).running).toBe(false);
      expect((await postgresStatus(join(state, "postgres"))).running).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      // Whatever happened above, leave no broker or database behind.
      await stopKafka(join(state, "kafka"));
      await stopPostgres(join(state, "postgres"));
      await rm(state, { recursive: true, force: true });
    }
  }, 180_000);
});
