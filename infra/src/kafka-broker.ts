import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createKafka, type KafkaSecurity } from "@runhooks/kafka";
import { ensureKafkaDist, type Report } from "./kafka-dist.js";
import { InfraError } from "./errors.js";
import { clusterId } from "./cluster-id.js";
import { NODE_ID, log4jProperties, serverProperties } from "./broker-config.js";
import { isAlive, portOpen, readPid, run, sleep, tail, terminate } from "./proc.js";

export interface KafkaBrokerOptions {
  /** Holds the jar cache (`dist/`), the log dir (`data/`), configs, logs and the pid file. */
  readonly dir: string;
  readonly version: string;
  readonly port: number;
  readonly controllerPort: number;
  /** JVM heap, e.g. `768m`: bounded so the broker fits next to everything else on a small machine. */
  readonly heap: string;
  readonly report: Report;
  /** Where fetched Kafka jars are cached; defaults to `<dir>/dist`. Shared between folders in tests. */
  readonly cacheDir?: string;
  /** Java executable; defaults to `$JAVA_HOME/bin/java`, then `java` on PATH. */
  readonly java?: string;
  readonly mvn?: string;
  readonly startTimeoutMs?: number;
  /** server.properties settings added to (or replacing) the PLAINTEXT defaults: other listeners, SASL, an authorizer. */
  readonly properties?: Readonly<Record<string, string>>;
  /** More arguments to `kafka-storage format`, e.g. `--add-scram` for the users of a fresh log dir. */
  readonly formatArgs?: readonly string[];
  /** How the start-up probe connects to `port` when it is not PLAINTEXT (the admin's credentials). */
  readonly probeSecurity?: KafkaSecurity;
}

export interface KafkaBroker {
  readonly brokers: string[];
  /** False when a broker we had started earlier was already running and is reused. */
  readonly started: boolean;
  readonly pid: number;
  readonly logFile: string;
}

function files(dir: string) {
  return {
    data: join(dir, "data"),
    logs: join(dir, "logs"),
    config: join(dir, "server.properties"),
    log4j: join(dir, "log4j.properties"),
    pid: join(dir, "broker.pid"),
    stdout: join(dir, "logs", "stdout.log"),
    serverLog: join(dir, "logs", "server.log"),
    cache: join(dir, "dist"),
  };
}

function javaCommand(o: KafkaBrokerOptions): string {
  if (o.java) return o.java;
  const home = process.env["JAVA_HOME"];
  return home ? join(home, "bin", "java") : "java";
}

/** Java 17 is what the broker is tested with here; Kafka 3.9 itself needs at least 11. */
async function checkJava(java: string): Promise<void> {
  const probe = await run(java, ["-version"]);
  if (probe.code === 127) {
    throw new InfraError(
      "java_missing",
      `Java was not found (${java}). The local Kafka broker needs Java 17: install it ` +
        "(Debian/Ubuntu: apt install openjdk-17-jre-headless) or set JAVA_HOME, " +
        "or set KAFKA_BROKERS to use an existing Kafka cluster.",
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(probe.stderr + probe.stdout);
  const major = match?.[1] === "1" ? Number(match[2]) : Number(match?.[1]);
  if (!Number.isFinite(major) || major < 11) {
    throw new InfraError(
      "java_too_old",
      `${java} is Java ${match?.[0] ?? "(unknown version)"}; Kafka 3.9 needs Java 11 or newer (17 recommended).`,
    );
  }
}

async function assertPortFree(port: number, what: string, setting: string): Promise<void> {
  if (await portOpen(port)) {
    throw new InfraError(
      "port_in_use",
      `cannot start Kafka: 127.0.0.1:${port} (${what}) is already in use by another process. ` +
        `Stop that process, set ${setting} to a free port, or set KAFKA_BROKERS to use an existing cluster.`,
    );
  }
}

/**
 * Formats the KRaft log dir unless it already holds this node's metadata. A data dir that cannot be
 * used (written by another node id, another Kafka version, or half-formatted) is stale: it is wiped and
 * formatted again, with a line saying so.
 */
async function formatStorage(o: KafkaBrokerOptions, java: string, libs: string): Promise<void> {
  const f = files(o.dir);
  const meta = join(f.data, "meta.properties");
  if (existsSync(meta)) {
    const text = await readFile(meta, "utf8");
    if (text.includes(`node.id=${NODE_ID}`) && /cluster\.id=\S+/.test(text)) return;
    o.report(`stale Kafka data dir ${f.data} (not this broker's); wiping it`);
  } else if (existsSync(f.data)) {
    o.report(`Kafka data dir ${f.data} has no metadata (interrupted format?); wiping it`);
  }
  await rm(f.data, { recursive: true, force: true });
  const result = await run(java, [
    "-cp",
    join(libs, "*"),
    `-Dlog4j.configuration=file:${f.log4j}`,
    "kafka.tools.StorageTool",
    "format",
    "-t",
    clusterId(),
    "-c",
    f.config,
    ...(o.formatArgs ?? []),
  ]);
  if (result.code !== 0) {
    throw new InfraError(
      "kafka_format_failed",
      `formatting the Kafka log dir ${f.data} failed (exit ${result.code}):\n${(result.stderr + result.stdout).trim()}`,
    );
  }
}

async function waitUntilServing(o: KafkaBrokerOptions, pid: number): Promise<void> {
  const f = files(o.dir);
  const deadline = Date.now() + (o.startTimeoutMs ?? 90_000);
  const kafka = createKafka({
    brokers: [`127.0.0.1:${o.port}`],
    clientId: "runhooks-infra-probe",
    security: o.probeSecurity,
    logLevel: "error",
    logger: () => undefined,
    connectionTimeoutMs: 1000,
  });
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      const log = `${await tail(f.stdout, 10)}\n${await tail(f.serverLog, 10)}`;
      const hint = /Address already in use/.test(log)
        ? `a port (${o.port} or ${o.controllerPort}) is in use by another process; set RUNHOOKS_KAFKA_PORT / RUNHOOKS_KAFKA_CONTROLLER_PORT or KAFKA_BROKERS`
        : `see ${f.serverLog}`;
      throw new InfraError("kafka_start_failed", `the Kafka broker exited during start-up: ${hint}\n${log}`);
    }
    if (await portOpen(o.port)) {
      const admin = kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length > 0) return;
      } catch {
        // not serving yet
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
    await sleep(250);
  }
  throw new InfraError(
    "kafka_start_failed",
    `the Kafka broker did not answer on 127.0.0.1:${o.port} within ${Math.round((o.startTimeoutMs ?? 90_000) / 1000)} s; ` +
      `see ${f.serverLog}\n${await tail(f.serverLog, 10)}`,
  );
}

/**
 * Starts a single-node KRaft broker on 127.0.0.1, or reuses the one this folder already runs.
 * The broker is detached (its own process group) so it outlives a crash of the caller; `stopKafka`
 * or the next start finds it through the pid file.
 */
export async function startKafka(o: KafkaBrokerOptions): Promise<KafkaBroker> {
  const f = files(o.dir);
  const brokers = [`127.0.0.1:${o.port}`];
  const running = await readPid(f.pid);
  if (running !== undefined && isAlive(running)) {
    await waitUntilServing(o, running);
    return { brokers, started: false, pid: running, logFile: f.serverLog };
  }
  await assertPortFree(o.port, "Kafka listener", "RUNHOOKS_KAFKA_PORT");
  await assertPortFree(o.controllerPort, "Kafka controller", "RUNHOOKS_KAFKA_CONTROLLER_PORT");
  const java = javaCommand(o);
  await checkJava(java);
  const libs = await ensureKafkaDist({
    cacheDir: o.cacheDir ?? f.cache,
    version: o.version,
    report: o.report,
    ...(o.mvn ? { mvn: o.mvn } : {}),
  });

  await mkdir(f.logs, { recursive: true });
  await writeFile(f.config, serverProperties({ ...o, dataDir: f.data }));
  await writeFile(f.log4j, log4jProperties(f.serverLog));
  await formatStorage(o, java, libs);

  const out = openSync(f.stdout, "a");
  const child = spawn(
    java,
    [
      `-Xmx${o.heap}`,
      `-Xms${o.heap}`,
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      `-Dlog4j.configuration=file:${f.log4j}`,
      `-Dkafka.logs.dir=${f.logs}`,
      "-cp",
      join(libs, "*"),
      "kafka.Kafka",
      f.config,
    ],
    { detached: true, stdio: ["ignore", out, out] },
  );
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new InfraError("kafka_start_failed", `could not spawn ${java}`);
  child.unref();
  await writeFile(f.pid, `${pid}\n`);
  try {
    await waitUntilServing(o, pid);
  } catch (error) {
    await terminate(pid, 5000);
    await rm(f.pid, { force: true });
    throw error;
  }
  return { brokers, started: true, pid, logFile: f.serverLog };
}

/** Stops the broker this folder runs, if any: SIGTERM for a clean shutdown, SIGKILL after 30 s. */
export async function stopKafka(dir: string): Promise<"stopped" | "killed" | "not_running"> {
  const f = files(dir);
  const pid = await readPid(f.pid);
  const outcome = pid === undefined ? "not_running" : await terminate(pid, 30_000);
  await rm(f.pid, { force: true });
  return outcome;
}

export async function kafkaStatus(dir: string): Promise<{ running: boolean; pid?: number }> {
  const pid = await readPid(files(dir).pid);
  return pid !== undefined && isAlive(pid) ? { running: true, pid } : { running: false };
}
