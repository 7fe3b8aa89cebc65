import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { table } from "../table.js";

interface ListedRule {
  id: string;
  display_name: string;
  version: number;
  enabled: boolean;
  sampling_rate: number;
  window: { seconds: number; max_runs: number };
  webhooks: unknown[];
  effective_from: string | null;
}

/** `runhooks rules list`: the tenant's rules, one a line (or the API's JSON with --json). */
export async function listCommand(options: { json: boolean }, config: CliConfig, io: CliIo): Promise<number> {
  const answer = await new ApiClient(config).request<{ rules: ListedRule[] }>("GET", "/rules");
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  const { rules } = answer.body;
  if (options.json) {
    io.out(`${JSON.stringify(rules, null, 2)}\n`);
    return 0;
  }
  if (rules.length === 0) {
    io.out("no rules yet: add some with `runhooks rules apply -f examples/rules/`\n");
    return 0;
  }
  const rows = [
    ["ID", "VERSION", "ENABLED", "SAMPLING", "WINDOW", "WEBHOOKS", "PUBLISHED", "NAME"],
    ...rules.map((r) => [
      r.id,
      String(r.version),
      r.enabled ? "yes" : "no",
      String(r.sampling_rate),
      `${r.window.seconds}s/${r.window.max_runs}`,
      String(r.webhooks.length),
      r.effective_from === null ? "pending" : "yes",
      r.display_name,
    ]),
  ];
  io.out(`${table(rows)}\n`);
  return 0;
}
