import { Command } from "commander";
import { applyCommand } from "./commands/apply.js";
import { backfillCommand, cancelBackfillCommand, listBackfillsCommand, replayCommand } from "./commands/backfill.js";
import { listCommand } from "./commands/list.js";
import { createTenantCommand } from "./commands/tenants.js";
import { testCommand } from "./commands/test.js";
import { demoCommand } from "./commands/demo.js";
import { listDeliveriesCommand, redeliverCommand, showDeliveryCommand } from "./commands/deliveries.js";
import { recoverCommand } from "./commands/recover.js";
import { enableWebhookCommand, listWebhooksCommand, testWebhooksCommand } from "./commands/webhooks.js";
import { produceCommand } from "./commands/produce.js";
import { listProjectsCommand } from "./commands/projects.js";
import { rotateSecretCommand } from "./commands/rotate-secret.js";
import { startCommand } from "./commands/start.js";
import { tailCommand } from "./commands/tail.js";
import { readConfig } from "./config.js";
import { failureOf } from "./failure.js";
import { CliError, type CliIo } from "./io.js";
import { terminalOf } from "./terminal.js";

const ENVIRONMENT_HELP = `
Environment:
  RUNHOOKS_API_URL    where the API listens (default http://127.0.0.1:8080)
  RUNHOOKS_API_KEY    an API key of your tenant
  RUNHOOKS_ADMIN_KEY  the admin key (tenants only)`;

const KAFKA_HELP = `
Environment:
  KAFKA_BROKERS          the Kafka bootstrap servers (default the local broker, 127.0.0.1:$RUNHOOKS_KAFKA_PORT, port 9092)
  RUNHOOKS_TOPIC_PREFIX  topic names are <prefix>.runs, <prefix>.attempts… (default runhooks)`;

const STACK_HELP = `
Environment (see the README's Configuration for every variable):
  KAFKA_BROKERS / DATABASE_URL   use these instead of starting a local Kafka / PostgreSQL
  RUNHOOKS_STATE_DIR             where the local broker and database keep their files (default .runhooks/)
  RUNHOOKS_KAFKA_PORT, RUNHOOKS_KAFKA_CONTROLLER_PORT, RUNHOOKS_PG_PORT   ports of the local stack`;

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${value} is not a positive whole number`, "usage");
  return n;
};

function buildProgram(io: CliIo, run: (work: () => Promise<number>) => Promise<void>): Command {
  const config = () => readConfig(io.env);
  const terminal = terminalOf(io.env, io.tty?.out ?? false, io.tty?.err ?? false);
  const program = new Command()
    .name("runhooks")
    .description(
      "Automation rules over LLM runs: run the engine, try the demo, manage rules, produce runs, follow deliveries.",
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", ENVIRONMENT_HELP);

  const rules = program
    .command("rules")
    .description("apply, list and test rules")
    .addHelpText("after", ENVIRONMENT_HELP);

  rules
    .command("apply")
    .description("make your tenant's rules what the files say: create, update or leave each alone (idempotent)")
    .requiredOption("-f, --file <path>", "a rule file (one rule or an array) or a directory of *.json rule files")
    .option("--dry-run", "say what would change; change nothing", false)
    .option("--prune", "also delete your rules that are not in the files", false)
    .action((opts: { file: string; dryRun: boolean; prune: boolean }) => run(() => applyCommand(opts, config(), io)));

  rules
    .command("list")
    .description("list your tenant's rules")
    .option("--json", "print the API's JSON", false)
    .action((opts: { json: boolean }) => run(() => listCommand(opts, config(), io)));

  rules
    .command("test")
    .description("dry run: which runs a rule matches, why not, and the exact webhook payloads")
    .requiredOption("-f, --file <path>", "the rule (a JSON file)")
    .requiredOption("--runs <path>", "the runs: JSON Lines (one run a line) or a JSON array")
    .option("--json", "print the API's JSON answer, payloads included", false)
    .action((opts: { file: string; runs: string; json: boolean }) => run(() => testCommand(opts, config(), io)));

  rules
    .command("backfill")
    .description(
      "judge the runs of a past range by the rule's current version and deliver their windows (marked as a backfill); " +
        "shows progress until it ends",
    )
    .argument("<rule>", "the rule's id or display name")
    .requiredOption("--from <time>", "from this time: an age (2d, 36h, 90m) or an ISO 8601 time")
    .option("--to <time>", "up to this time (default: when the rule's version came into force)")
    .option("--detach", "start it and return at once", false)
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((rule: string, opts: { from: string; to?: string; detach: boolean }) =>
      run(() => backfillCommand(rule, opts, config(), io, terminal)),
    );

  rules
    .command("backfills")
    .description("the rule's backfills, newest first: state, runs read of the total, windows sent, time left")
    .argument("<rule>", "the rule's id or display name")
    .option("--json", "print the API's JSON", false)
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((rule: string, opts: { json: boolean }) => run(() => listBackfillsCommand(rule, opts, config(), io)));

  rules
    .command("backfill-cancel")
    .description("cancel a pending or running backfill (windows already sent stay sent)")
    .argument("<rule>", "the rule's id or display name")
    .argument("<backfill>", "the backfill's id, as `runhooks rules backfills` shows it")
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((rule: string, backfill: string) => run(() => cancelBackfillCommand(rule, backfill, config(), io)));

  rules
    .command("replay")
    .description("deliver again the rule's stored windows that started in [from, to) (no new window is made)")
    .argument("<rule>", "the rule's id or display name")
    .requiredOption("--from <time>", "an age (2d, 36h, 90m) or an ISO 8601 time")
    .requiredOption("--to <time>", "an age or an ISO 8601 time")
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((rule: string, opts: { from: string; to: string }) => run(() => replayCommand(rule, opts, config(), io)));

  const projects = program
    .command("projects")
    .description("your tenant's tracing projects (LangSmith's projects: a rule's session_id names one)")
    .addHelpText("after", ENVIRONMENT_HELP);
  projects
    .command("list")
    .description(
      "your projects, newest first: the id each run of it carries as session_id, its name, when it was created",
    )
    .option("--name-contains <text>", "only projects whose name contains this (in any case)")
    .option("--limit <n>", "at most this many (1–1000)", "100")
    .option("--json", "print the API's JSON", false)
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((opts: { nameContains?: string; limit: string; json: boolean }) =>
      run(() => listProjectsCommand(opts, config(), io)),
    );

  const tenants = program.command("tenants").description("tenants and API keys (needs RUNHOOKS_ADMIN_KEY)");
  tenants
    .command("create")
    .description("create a tenant and its first API key")
    .argument("<name>", "the tenant's name")
    .action((name: string) => run(() => createTenantCommand(name, config(), io)));

  program
    .command("start")
    .description(
      "run the engine in the foreground: Kafka and PostgreSQL (local or configured), then every service in one process; Ctrl-C stops it",
    )
    .option(
      "--only <services>",
      "run only these services, comma-separated (api,evaluator,delivery); default all, or RUNHOOKS_SERVICES",
    )
    .addHelpText("after", STACK_HELP)
    .action((opts: { only?: string }) => run(() => startCommand(opts, io)));

  program
    .command("demo")
    .description(
      "see runhooks work end to end: start everything, apply examples/rules/, stream generated runs, deliver every window to a local " +
        "receiver that verifies signatures, print a summary; stops all it started",
    )
    .option("--runs <n>", "how many runs to stream", "3000")
    .option("--rate <n>", "runs per second while streaming", "2000")
    .option("--seed <n>", "seed of the generated runs (same seed, same runs)", "42")
    .option("--timeout <seconds>", "give up waiting for deliveries after this long", "90")
    .addHelpText("after", STACK_HELP)
    .action((opts: { runs: string; rate: string; seed: string; timeout: string }) =>
      run(() => demoCommand(opts, config(), io, terminal)),
    );

  const runs = program.command("runs").description("push runs into Kafka");
  runs
    .command("produce")
    .description(
      "produce the runs of a JSON Lines file (one LangSmith run a line) to <prefix>.runs, keyed by trace id; lines that are not valid " +
        "runs are listed with their line numbers and not produced (exit code 1)",
    )
    .argument("<file>", "a .jsonl file")
    .option("--batch <n>", "runs per Kafka request", positive, 500)
    .addHelpText("after", KAFKA_HELP)
    .action((file: string, opts: { batch: number }) =>
      run(() => produceCommand({ file, batch: opts.batch }, config(), io, terminal)),
    );

  const deliveries = program
    .command("deliveries")
    .description("your tenant's webhook deliveries and their attempts")
    .addHelpText("after", ENVIRONMENT_HELP);
  deliveries
    .command("list")
    .description("your deliveries, newest first")
    .option("--rule <id>", "only this rule's")
    .option("--status <status>", "pending, in_flight, succeeded or failed")
    .option("--since <time>", "created at or after this ISO-8601 time")
    .option("--limit <n>", "at most this many (1–1000)", "100")
    .option("--json", "print the API's JSON", false)
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((opts: { rule?: string; status?: string; since?: string; limit: string; json: boolean }) =>
      run(() => listDeliveriesCommand(opts, config(), io)),
    );
  deliveries
    .command("show")
    .description("one delivery and every attempt it made")
    .argument("<id>", "the delivery id (the webhook-id header receivers get)")
    .option("--json", "print the API's JSON", false)
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((id: string, opts: { json: boolean }) => run(() => showDeliveryCommand(id, opts, config(), io)));
  deliveries
    .command("redeliver")
    .description("send a finished (succeeded or failed) delivery again: a new round of attempts, the first one manual")
    .argument("<id>", "the delivery id")
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((id: string) => run(() => redeliverCommand(id, config(), io)));
  deliveries
    .command("recover")
    .description("send failed and skipped deliveries again (never succeeded ones), oldest first")
    .requiredOption("--since <when>", "created this long ago or later (90s, 30m, 2h, 1d) or an ISO-8601 time")
    .option("--until <when>", "created before this (a duration ago or an ISO-8601 time); default now")
    .option("--rule <id>", "only this rule's")
    .option("--webhook <id>", "only this webhook's")
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((opts: { since: string; until?: string; rule?: string; webhook?: string }) =>
      run(() => recoverCommand(opts, config(), io)),
    );

  const webhooks = program
    .command("webhooks")
    .description("a rule's webhooks: their health, enabling a disabled one, test sends, secret rotation")
    .addHelpText("after", ENVIRONMENT_HELP);
  webhooks
    .command("list")
    .description("the rule's webhooks: state, deliveries failed in a row, last success, retry policy")
    .argument("<rule>", "the rule id")
    .option("--json", "print the API's JSON", false)
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((rule: string, opts: { json: boolean }) => run(() => listWebhooksCommand(rule, opts, config(), io)));
  webhooks
    .command("enable")
    .description("enable a disabled webhook (then `deliveries recover` sends what it missed)")
    .argument("<rule>", "the rule id")
    .argument("<webhook>", "the webhook id (`runhooks webhooks list <rule>`)")
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((rule: string, webhook: string) => run(() => enableWebhookCommand(rule, webhook, config(), io)));
  webhooks
    .command("test")
    .description(
      "send a signed sample window to the rule's webhooks now and show each attempt's outcome (exit 1 unless all succeed)",
    )
    .argument("<rule>", "the rule id")
    .option("--webhook <id>", "only this webhook")
    .option("--json", "print the API's JSON", false)
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((rule: string, opts: { webhook?: string; json: boolean }) =>
      run(() => testWebhooksCommand(rule, opts, config(), io)),
    );

  webhooks
    .command("rotate-secret")
    .description(
      "a new signing secret for a webhook, printed once; the old one keeps signing alongside it for the grace period",
    )
    .argument("<rule-id>", "the rule")
    .argument("<webhook-id>", "the webhook (its id in GET /rules/:id)")
    .option(
      "--grace <duration>",
      "how long the old secret keeps signing: 3600, 90s, 15m, 1h, 2d (default 1d, at most 7d; 0: none)",
    )
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((ruleId: string, webhookId: string, opts: { grace?: string }) =>
      run(() => rotateSecretCommand(ruleId, webhookId, opts, config(), io)),
    );

  program
    .command("tail")
    .description(
      "follow webhook attempts as they happen (<prefix>.attempts, from now), one line each, coloured by outcome on a terminal (NO_COLOR turns colour off)",
    )
    .option("--rule <id>", "only this rule's attempts")
    .option("--max <n>", "stop after this many attempts", positive)
    .option("--json", "print each attempt as JSON", false)
    .addHelpText("after", KAFKA_HELP)
    .action((opts: { rule?: string; max?: number; json: boolean }) =>
      run(() => tailCommand(opts, config(), io, terminal)),
    );

  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns its exit code; never exits the process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const run = async (work: () => Promise<number>) => {
    code = await work();
  };
  const program = buildProgram(io, run);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    const failure = failureOf(error);
    if (failure.text !== "") io.err(failure.text);
    return failure.exitCode;
  }
}
