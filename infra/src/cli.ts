#!/usr/bin/env node
// The local stack's command line: `start` (foreground, Ctrl-C stops), `up`, `down`, `status`, `acls`.
import { join } from "node:path";
import { exitCodeOf } from "@runhooks/errors";
import { runAclsCommand } from "./acls-command.js";
import { readInfraEnv } from "./env.js";
import { InfraError } from "./errors.js";
import { kafkaStatus, stopKafka } from "./kafka-broker.js";
import { defaultStateDir } from "./paths.js";
import { postgresStatus, stopPostgres } from "./postgres.js";
import type { ServiceName } from "./engine.js";
import { describePrepared, parseServices, runStartCommand, UsageError } from "./start-command.js";
import { purgeSecrets, rotateSecretsKey } from "./secrets-commands.js";
import { localSecretsKey } from "./secrets-key.js";
import { describeStack, prepareStack, startStack } from "./stack.js";

const USAGE = `usage: runhooks-infra <command>

  start [--only api,ingest,evaluator,delivery,backfill]
           start Kafka and PostgreSQL (or use KAFKA_BROKERS / DATABASE_URL), create the topics,
           migrate the database, then run the runhooks services (all by default, or those named
           by --only or RUNHOOKS_SERVICES) in the foreground; Ctrl-C stops what was started
  up       start Kafka and PostgreSQL, topics and migrations only, leave them running and exit
  down     stop the broker and database a previous start or up left running
  status   say what is running
  acls [--apply] [--principal <who>=User:<name>]… [--command-config <file>]
           print the Kafka ACLs of each runhooks service and of the producers (who: api, ingest,
           evaluator, delivery, producer) as kafka-acls.sh commands; --apply creates them on
           KAFKA_BROKERS as the admin the KAFKA_SASL_*/KAFKA_TLS_* settings name
  rotate-secrets-key [--keep-old]
           generate a secrets key, re-seal every stored webhook secret under it (the old key stays
           readable until done), then drop the old key from the key file; restart api and delivery
  purge-secrets [--older-than-days 30]
           remove the webhook secrets of rule versions superseded or deleted that long ago
`;

const say = (line: string) => console.log(`[runhooks] ${line}`);

/** `--only a,b` or RUNHOOKS_SERVICES=a,b; every service by default. Unknown names are an error. */
function servicesToRun(args: readonly string[], fromEnv: string | undefined): ServiceName[] {
  const at = args.indexOf("--only");
  return parseServices(at >= 0 ? args[at + 1] : fromEnv);
}

async function bringUp(): Promise<Awaited<ReturnType<typeof startStack>>> {
  const env = readInfraEnv();
  const started = Date.now();
  const stack = await startStack(env, say);
  try {
    const prep = await prepareStack(env, stack, (await localSecretsKey(stack.stateDir, process.env)).keyring);
    for (const line of describeStack(stack)) say(line);
    describePrepared(env, prep, say);
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case "start":
      return runStartCommand(
        readInfraEnv(),
        servicesToRun(process.argv.slice(3), process.env["RUNHOOKS_SERVICES"]),
        say,
      );
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
    case "rotate-secrets-key":
    case "purge-secrets": {
      const stack = await bringUp();
      try {
        return command === "purge-secrets"
          ? await purgeSecrets(stack.databaseUrl, process.argv.slice(3), say)
          : await rotateSecretsKey(stack.databaseUrl, stack.stateDir, process.env, process.argv.slice(3), say);
      } finally {
        await stack.stop();
      }
    }
    case "acls":
      // Plain lines (no `[runhooks]`), so the commands can be piped to a shell.
      return runAclsCommand(readInfraEnv(), process.argv.slice(3), (line) => console.log(line));
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === "--help" || command === "-h" ? 0 : 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // The code decides the exit code (2 for a usage error); the stack's codes are named in the docs.
    if (error instanceof UsageError) console.error(`[runhooks] ${error.message}`);
    else if (error instanceof InfraError) console.error(`[runhooks] error (${error.code}): ${error.message}`);
    else console.error("[runhooks] unexpected error:", error);
    process.exit(exitCodeOf(error));
  },
);
