import { createServer, type Server } from "node:net";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfraError, defaultStateDir, readInfraEnv, startKafka, startPostgres, stopKafka } from "@runhooks/infra";

const env = readInfraEnv();
const quiet = () => undefined;

async function listenOnFreePort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

async function freePort(): Promise<number> {
  const { server, port } = await listenOnFreePort();
  await new Promise((r) => server.close(r));
  return port;
}

describe("local broker start-up errors", () => {
  let dir: string;
  let taken: { server: Server; port: number };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "runhooks-infra-"));
    taken = await listenOnFreePort();
  });
  afterAll(async () => {
    await new Promise((r) => taken.server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("says which port is taken and what to do, without hanging", async () => {
    const attempt = startKafka({
      dir,
      version: env.RUNHOOKS_KAFKA_VERSION,
      port: taken.port,
      controllerPort: await freePort(),
      heap: "256m",
      report: quiet,
    });
    await expect(attempt).rejects.toBeInstanceOf(InfraError);
    await expect(attempt).rejects.toMatchObject({ code: "port_in_use" });
    await expect(attempt).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${taken.port}.*RUNHOOKS_KAFKA_PORT.*KAFKA_BROKERS`),
    );
  });

  it("says Java is missing and how to install it", async () => {
    const attempt = startKafka({
      dir,
      version: env.RUNHOOKS_KAFKA_VERSION,
      port: await freePort(),
      controllerPort: await freePort(),
      heap: "256m",
      report: quiet,
      java: join(dir, "no-such-java"),
    });
    await expect(attempt).rejects.toMatchObject({ code: "java_missing" });
    await expect(attempt).rejects.toThrow(/Java 17.*KAFKA_BROKERS/);
  });

  it("says Maven is missing when Kafka has not been fetched yet", async () => {
    const attempt = startKafka({
      dir,
      cacheDir: join(dir, "empty-cache"),
      version: env.RUNHOOKS_KAFKA_VERSION,
      port: await freePort(),
      controllerPort: await freePort(),
      heap: "256m",
      report: quiet,
      mvn: join(dir, "no-such-mvn"),
    });
    await expect(attempt).rejects.toMatchObject({ code: "maven_missing" });
  });

  // As root the server runs as the postgres user, which cannot enter dir (mode 700, from mkdtemp).
  it.runIf(process.getuid?.() === 0)(
    "explains that the postgres user cannot reach a private state folder",
    async () => {
      const attempt = startPostgres({ dir: join(dir, "pg"), port: await freePort(), database: "x", report: quiet });
      await expect(attempt).rejects.toMatchObject({ code: "postgres_start_failed" });
      await expect(attempt).rejects.toThrow(/cannot enter .*chmod o\+x.*RUNHOOKS_STATE_DIR/);
    },
  );

  it("refuses to start PostgreSQL on a taken port, naming the setting to change", async () => {
    const attempt = startPostgres({ dir: join(dir, "pg"), port: taken.port, database: "x", report: quiet });
    await expect(attempt).rejects.toMatchObject({ code: "port_in_use" });
    await expect(attempt).rejects.toThrow(/RUNHOOKS_PG_PORT.*DATABASE_URL/);
  });
});

describe.skipIf(env.KAFKA_BROKERS !== undefined)("local broker lifecycle", () => {
  it("reuses the broker that is already running instead of starting a second one", async () => {
    const state = env.RUNHOOKS_STATE_DIR ?? defaultStateDir();
    const broker = await startKafka({
      dir: join(state, "kafka"),
      version: env.RUNHOOKS_KAFKA_VERSION,
      port: env.RUNHOOKS_KAFKA_PORT,
      controllerPort: env.RUNHOOKS_KAFKA_CONTROLLER_PORT,
      heap: env.RUNHOOKS_KAFKA_HEAP,
      report: quiet,
    });
    expect(broker.started).toBe(false);
    expect(broker.brokers).toEqual([`127.0.0.1:${env.RUNHOOKS_KAFKA_PORT}`]);
  });

  it("wipes a stale data dir, starts a fresh broker, and stops it cleanly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runhooks-stale-"));
    try {
      // A data dir left by some other broker: wrong node id, a leftover lock file.
      await mkdir(join(dir, "data"), { recursive: true });
      await writeFile(
        join(dir, "data", "meta.properties"),
        "version=1\nnode.id=7\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\n",
      );
      await writeFile(join(dir, "data", ".lock"), "");
      const lines: string[] = [];
      const broker = await startKafka({
        dir,
        cacheDir: join(env.RUNHOOKS_STATE_DIR ?? defaultStateDir(), "kafka", "dist"),
        version: env.RUNHOOKS_KAFKA_VERSION,
        port: await freePort(),
        controllerPort: await freePort(),
        heap: "256m",
        report: (l) => lines.push(l),
      });
      expect(broker.started).toBe(true);
      expect(lines.join("\n")).toMatch(/stale Kafka data dir/);
      expect(await stopKafka(dir)).toBe("stopped");
      expect(await stopKafka(dir)).toBe("not_running");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
