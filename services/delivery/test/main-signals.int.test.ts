import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { repoRoot } from "@runhooks/infra";
import { INSTANCE_LOCK_NAMESPACE, connectDatabase, sql, type Database } from "@runhooks/db";
import { createDeliveryHarness, eventually, type DeliveryHarness } from "./harness.js";
import { TEST_SECRETS_KEY } from "../../../test/support/stack.js";

/** A delivery process run from main.ts, as in production, with its log lines. */
interface Main {
  readonly process: ChildProcess;
  readonly lines: string[];
  /** `code <n>, signal <s>` once it exited. */
  readonly exited: Promise<string>;
}

describe("delivery main: SIGTERM", () => {
  let h: DeliveryHarness;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    h = await createDeliveryHarness("dsignals");
  }, 120_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await h?.close();
  });

  const run = (instanceId: string): Main => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=source", join(repoRoot, "services/delivery/src/main.ts")],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: inject("kafkaBrokers").join(","),
          RUNHOOKS_SECRETS_KEY: TEST_SECRETS_KEY,
          DATABASE_URL: h.database.url,
          RUNHOOKS_TOPIC_PREFIX: h.prefix,
          RUNHOOKS_DELIVERY_GROUP: `${h.prefix}-delivery`,
          RUNHOOKS_INSTANCE_ID: instanceId,
          RUNHOOKS_DELIVERY_PORT: "-1",
          RUNHOOKS_LOG_LEVEL: "info",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    children.push(child);
    const lines: string[] = [];
    createInterface({ input: child.stderr }).on("line", (line) => lines.push(line));
    const exited = new Promise<string>((resolve) =>
      child.once("exit", (code, signal) => resolve(`code ${code}, signal ${signal}`)),
    );
    return { process: child, lines, exited };
  };
  const logged = (m: Main, message: string) => m.lines.some((l) => l.includes(`"message":"${message}`));

  it("stops a process still waiting for its instance lock: exit 0", async () => {
    // The test holds the instance's lock, so the process waits for it at start.
    const test: Database = connectDatabase({ url: h.database.url, poolSize: 1 });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let taken!: () => void;
    const isTaken = new Promise<void>((r) => (taken = r));
    const holding = test.task(async (conn) => {
      await conn.query(sql`SELECT pg_advisory_lock(${INSTANCE_LOCK_NAMESPACE}::int, hashtext(${"waiting"}))`);
      taken();
      await released;
    });
    try {
      await isTaken;
      const main = run("waiting");
      await eventually(
        "the process to wait for its lock",
        () => logged(main, "another session holds this instance's lock"),
        60_000,
      );
      main.process.kill("SIGTERM");
      expect(await main.exited).toBe("code 0, signal null");
      expect(logged(main, "stopped before it had started")).toBe(true);
      expect(logged(main, "delivery started")).toBe(false);
    } finally {
      release();
      await holding;
      await test.dispose();
    }
  }, 120_000);

  it("stops a running process gracefully and releases its instance lock: exit 0", async () => {
    const main = run("running");
    await eventually("the process to start", () => logged(main, "delivery started"), 60_000);
    const holders = async () =>
      (
        (await h.db.query(sql`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND classid = ${INSTANCE_LOCK_NAMESPACE}::int::oid AND objsubid = 2
          AND objid = (hashtext(${"running"})::bigint & 4294967295)::oid
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)) as { n: number }[]
      )[0]!.n;
    expect(await holders()).toBe(1);
    main.process.kill("SIGTERM");
    expect(await main.exited).toBe("code 0, signal null");
    expect(logged(main, "delivery stopped")).toBe(true);
    await eventually("its lock to be released", async () => (await holders()) === 0);
  }, 120_000);
});
