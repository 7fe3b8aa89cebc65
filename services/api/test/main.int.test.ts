import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { createTestDatabase, uniquePrefix, type TestDatabase, TEST_SECRETS_KEY } from "../../../test/support/stack.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const mainScript = fileURLToPath(new URL("../src/main.ts", import.meta.url));

function startMain(env: Record<string, string | undefined>): {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", mainScript], {
    cwd: repoRoot,
    env: { PATH: process.env["PATH"], ...env },
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exit };
}

describe("the API service's main", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("api_main");
  });
  afterAll(async () => {
    await database.drop();
  });

  it("starts from the environment, answers /healthz, and shuts down cleanly on SIGTERM", async () => {
    const main = startMain({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      RUNHOOKS_SECRETS_KEY: TEST_SECRETS_KEY,
      RUNHOOKS_TOPIC_PREFIX: uniquePrefix("main"),
      RUNHOOKS_API_PORT: "0",
      RUNHOOKS_LOG_LEVEL: "warn",
    });
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (url === undefined && Date.now() < deadline) {
      url = /listening on (http:\/\/\S+)/.exec(main.output())?.[1];
      if (url === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, main.output()).toBeDefined();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${url}/rules`)).status).toBe(401);
    // /metrics: every answer counted by method, route and status; the relay's counters are there.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const requests = (route: string, status: number) =>
      metrics
        .split("\n")
        .find(
          (l) =>
            l.startsWith("runhooks_api_requests_total{") &&
            l.includes(`route="${route}"`) &&
            l.includes(`status="${status}"`),
        );
    expect(requests("/healthz", 200), metrics).toMatch(/ 1$/);
    expect(requests("/rules", 401), metrics).toMatch(/ 1$/);
    expect(metrics).toMatch(/^runhooks_api_relay_published_total \d+$/m);
    expect(metrics).toMatch(/^runhooks_api_relay_failures_total \d+$/m);
    // The database URL is printed with its password redacted.
    const password = new URL(database.url).password;
    expect(main.output()).toContain(database.url.replace(`:${password}@`, ":***@").replace(/\/$/, ""));
    main.child.kill("SIGTERM");
    expect(await main.exit).toBe(0);
    expect(main.output()).toContain("SIGTERM: shutting down");
  });

  it("refuses to start on a bad environment, naming the variable", async () => {
    const main = startMain({ KAFKA_BROKERS: "127.0.0.1:1", RUNHOOKS_API_PORT: "http" });
    expect(await main.exit).toBe(1);
    expect(main.output()).toContain("DATABASE_URL");
    expect(main.output()).toContain("RUNHOOKS_API_PORT");
  });
});
