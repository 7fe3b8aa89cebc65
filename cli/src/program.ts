import { Command, CommanderError } from "commander";
import { applyCommand } from "./commands/apply.js";
import { listCommand } from "./commands/list.js";
import { createTenantCommand } from "./commands/tenants.js";
import { testCommand } from "./commands/test.js";
import { readConfig } from "./config.js";
import { CliError, type CliIo } from "./io.js";

const ENVIRONMENT_HELP = `
Environment:
  RUNHOOKS_API_URL    where the API listens (default http://127.0.0.1:8080)
  RUNHOOKS_API_KEY    an API key of your tenant
  RUNHOOKS_ADMIN_KEY  the admin key (tenants only)`;

function buildProgram(io: CliIo, run: (work: () => Promise<number>) => Promise<void>): Command {
  const config = () => readConfig(io.env);
  const program = new Command()
    .name("runhooks")
    .description("Automation rules over LLM runs: manage and test the rules of your tenant.")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", ENVIRONMENT_HELP);

  const rules = program.command("rules").description("apply, list and test rules").addHelpText("after", ENVIRONMENT_HELP);

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

  const tenants = program.command("tenants").description("tenants and API keys (needs RUNHOOKS_ADMIN_KEY)");
  tenants
    .command("create")
    .description("create a tenant and its first API key")
    .argument("<name>", "the tenant's name")
    .action((name: string) => run(() => createTenantCommand(name, config(), io)));

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
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode;
    }
    if (error instanceof CliError) {
      io.err(`runhooks: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`runhooks: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
