#!/usr/bin/env node
// The local stack's command line: `start` (foreground, Ctrl-C stops), `up`, `down`, `status`.
import { join } from "node:path";
import { readInfraEnv } from "./env.js";
import { InfraError } from "./errors.js";
import { kafkaStatus, stopKafka } from "./kafka-broker.js";
import { defaultStateDir } from "./paths.js";
import { postgresStatus, stopPostgres } from "./postgres.js";
import { SERVICES, startEngine, type ServiceName } from "./engine.js";
import type { InfraEnv } from "./env.js";
import { describeStack, prepareStack, startStack, type PrepareReport } from "./stack.js";

const USAGE = `usage: runhooks-infra <command>

  start [--only api,ingest,evaluator,delivery]
           start Kafka and PostgreSQL (or use KAFKA_BROKERS / DATABASE_URL), create the topics,
           migrate the database, then run the runhooks services (all by default, or those named
           by --only or RUNHOOKS_SERVICES) in the foreground; Ctrl-C stops what was started
  up       start Kafka and PostgreSQL, topics and migrations only, leave them running and exit
  down     stop the broker and database a previous start or up left running
  status   say what is running
`;

const say = (line: string) => console.log(`[runhooks] ${line}`);

function describePrepared(env: InfraEnv, prep: PrepareReport): void {
  say(`topics      ${prep.topicsCreated.length} created, ${prep.topicsVerified.length} verified (prefix ${env.RUNHOOKS_TOPIC_PREFIX})`);
  for (const problem of prep.topicProblems) say(`WARNING ${problem} — fix the topic or use another RUNHOOKS_TOPIC_PREFIX`);
  say(`migrations  ${prep.migrationsApplied.length === 0 ? "up to date" : `applied ${prep.migrationsApplied.join(", ")}`}`);
}

/** `--only a,b` or RUNHOOKS_SERVICES=a,b; every service by default. Unknown names are an error. */
function servicesToRun(args: readonly string[], fromEnv: string | undefined): ServiceName[] {
  const at = args.indexOf("--only");
  const list = at >= 0 ? args[at + 1] : fromEnv;
  if (list === undefined || list.trim() === "") return [...SERVICES];
  const names = list.split(",").map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SERVICES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new UsageError(`unknown service ${unknown.join(", ")}; choose among ${SERVICES.join(", ")}`);
  return names as ServiceName[];
}

class UsageError extends Error {}

/** Resolves on Ctrl-C / SIGTERM, or when a local component dies. Signal listeners alone do not keep Node alive; the watch does. */
function untilStopped(health: () => Promise<string | undefined>): Promise<string> {
  return new Promise<string>((resolve) => {
    const watch = setInterval(() => {
      void health().then((problem) => {
        if (problem !== undefined) {
          clearInterval(watch);
          resolve(problem);
        }
      });
    }, 2000);
    const onSignal = (signal: string) => {
      clearInterval(watch);
      resolve(`received ${signal}`);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
}

async function bringUp(): Promise<Awaited<ReturnType<typeof startStack>>> {
  const env = readInfraEnv();
  const started = Date.now();
  const stack = await startStack(env, say);
  try {
    const prep = await prepareStack(env, stack);
    for (const line of describeStack(stack)) say(line);
    describePrepared(env, prep);
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case "start": {
      const env = readInfraEnv();
      const only = servicesToRun(process.argv.slice(3), process.env["RUNHOOKS_SERVICES"]);
      const started = Date.now();
      const engine = await startEngine(env, only, say);
      for (const line of describeStack(engine.stack)) say(line);
      describePrepared(env, engine.prepared);
      for (const s of engine.services) say(`${s.name.padEnd(11)} ${s.summary}`);
      if (engine.adminKeyFile) say(`admin key   in ${engine.adminKeyFile} (create a tenant: RUNHOOKS_ADMIN_KEY=$(cat ${engine.adminKeyFile}) npx runhooks tenants create my-team)`);
      say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; press Ctrl-C to stop`);
      const reason = await untilStopped(() => engine.stack.health());
      say(`shutting down (${reason})…`);
      await engine.stop();
      say("stopped");
      return 0;
    }
    case "up": {
      await bringUp();
      say("left running; `npm run infra -- down` stops it");
      return 0;
    }
    case "down": {
      const dir = readInfraEnv().RUNHOOKS_STATE_DIR ?? defaultStateDir();
      say(`Kafka: ${await stopKafka(join(dir, "kafka"))}`);
      say(`PostgreSQL: ${await stopPostgres(join(dir, "postgres"))}`);
      return 0;
    }
    case "status": {
      const dir = readInfraEnv().RUNHOOKS_STATE_DIR ?? defaultStateDir();
      const k = await kafkaStatus(join(dir, "kafka"));
      const p = await postgresStatus(join(dir, "postgres"));
      say(`Kafka: ${k.running ? `running (pid ${k.pid})` : "not running"}`);
      say(`PostgreSQL: ${p.running ? `running (pid ${p.pid})` : "not running"}`);
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === "--help" || command === "-h" ? 0 : 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`[runhooks] ${error.message}`);
      process.exit(2);
    }
    if (error instanceof InfraError) {
      console.error(`[runhooks] error (${error.code}): ${error.message}`);
    } else {
      console.error("[runhooks] unexpected error:", error);
    }
    process.exit(1);
  },
);
