#!/usr/bin/env node
// The local stack's command line: `start` (foreground, Ctrl-C stops), `up`, `down`, `status`.
import { join } from "node:path";
import { readInfraEnv } from "./env.js";
import { InfraError } from "./errors.js";
import { kafkaStatus, stopKafka } from "./kafka-broker.js";
import { defaultStateDir } from "./paths.js";
import { postgresStatus, stopPostgres } from "./postgres.js";
import { describeStack, prepareStack, startStack } from "./stack.js";

const USAGE = `usage: runhooks-infra <command>

  start    start Kafka and PostgreSQL (or use KAFKA_BROKERS / DATABASE_URL), create the topics,
           migrate the database, and stay in the foreground; Ctrl-C stops what was started
  up       the same, but leave everything running and exit
  down     stop the broker and database a previous start or up left running
  status   say what is running
`;

const say = (line: string) => console.log(`[runhooks] ${line}`);

async function bringUp(): Promise<Awaited<ReturnType<typeof startStack>>> {
  const env = readInfraEnv();
  const started = Date.now();
  const stack = await startStack(env, say);
  try {
    const prep = await prepareStack(env, stack);
    for (const line of describeStack(stack)) say(line);
    say(`topics      ${prep.topicsCreated.length} created, ${prep.topicsVerified.length} verified (prefix ${env.RUNHOOKS_TOPIC_PREFIX})`);
    for (const problem of prep.topicProblems) say(`WARNING ${problem} — fix the topic or use another RUNHOOKS_TOPIC_PREFIX`);
    say(`migrations  ${prep.migrationsApplied.length === 0 ? "up to date" : `applied ${prep.migrationsApplied.join(", ")}`}`);
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
      const stack = await bringUp();
      say("no runhooks services exist yet besides the broker and the database; press Ctrl-C to stop");
      // Signal listeners do not keep Node alive; the watch does, and notices a component that died.
      const reason = await new Promise<string>((resolve) => {
        const watch = setInterval(() => {
          void stack.health().then((problem) => {
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
      say(`shutting down (${reason})…`);
      await stack.stop();
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
    if (error instanceof InfraError) {
      console.error(`[runhooks] error (${error.code}): ${error.message}`);
    } else {
      console.error("[runhooks] unexpected error:", error);
    }
    process.exit(1);
  },
);
