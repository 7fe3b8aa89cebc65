import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { progressOn } from "../progress.js";
import { table } from "../table.js";
import type { Terminal } from "../terminal.js";

interface Backfill {
  id: string;
  rule_id: string;
  rule_version: number;
  from: string;
  to: string | null;
  state: string;
  runs_read: number;
  runs_total: number;
  windows_sent: number;
  eta_seconds: number | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `2d`, `36h`, `90m`, `45s` ago, or an ISO 8601 time; pure (now passed in). */
export function parseTime(value: string, nowMs: number): string {
  const relative = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (relative) return new Date(nowMs - Number(relative[1]) * UNITS[relative[2]!]!).toISOString();
  if (!Number.isNaN(Date.parse(value))) return new Date(Date.parse(value)).toISOString();
  throw new CliError(`${value} is not a time: give an ISO 8601 time or an age such as 2d, 36h, 90m`, "usage");
}

/** A rule by id, or by its display name (the API lists the tenant's rules). */
async function ruleIdOf(client: ApiClient, rule: string): Promise<string> {
  if (UUID.test(rule)) return rule;
  const answer = await client.request<{ rules: { id: string; display_name: string }[] }>("GET", "/rules");
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  const found = answer.body.rules.filter((r) => r.display_name === rule);
  if (found.length !== 1)
    throw new CliError(
      found.length === 0 ? `no rule is named ${rule}` : `${found.length} rules are named ${rule}: give its id`,
    );
  return found[0]!.id;
}

const terminal = (state: string) => state === "succeeded" || state === "failed" || state === "cancelled";

function describe(b: Backfill): string {
  const eta = b.eta_seconds === null ? "" : `, about ${b.eta_seconds} s left`;
  return `${b.runs_read.toLocaleString("en-US")} of ${b.runs_total.toLocaleString("en-US")} runs read, ${b.windows_sent} windows sent${eta}`;
}

export interface BackfillOptions {
  readonly from: string;
  readonly to?: string;
  /** Start it and return at once. */
  readonly detach: boolean;
}

/** `runhooks rules backfill <rule> --from 2d [--to]`: starts a backfill and shows its progress until it ends. */
export async function backfillCommand(
  rule: string,
  options: BackfillOptions,
  config: CliConfig,
  io: CliIo,
  term: Terminal,
  now: () => number = Date.now,
  pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<number> {
  const client = new ApiClient(config);
  const id = await ruleIdOf(client, rule);
  const body = {
    from: parseTime(options.from, now()),
    ...(options.to === undefined ? {} : { to: parseTime(options.to, now()) }),
  };
  const started = await client.request<Backfill>("POST", `/rules/${id}/backfill`, body);
  if (!started.ok) throw new CliError(describeRefusal(started).join("; "));
  io.out(`backfill ${started.body.id} of rule ${id} from ${body.from}\n`);
  if (options.detach) return 0;
  const progress = progressOn(io.err, term);
  for (;;) {
    const answer = await client.request<{ backfills: Backfill[] }>("GET", `/rules/${id}/backfills`);
    if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
    const b = answer.body.backfills.find((x) => x.id === started.body.id);
    if (b === undefined) throw new CliError(`backfill ${started.body.id} is gone`);
    progress.update(b.runs_read, b.runs_total, `${b.state}: ${describe(b)}`);
    if (terminal(b.state)) {
      progress.finish(`${b.state}: ${describe(b)}${b.error === null ? "" : ` (${b.error})`}`);
      return b.state === "succeeded" ? 0 : 1;
    }
    await pause(1000);
  }
}

/** `runhooks rules backfills <rule>`: the rule's backfills, newest first. */
export async function listBackfillsCommand(
  rule: string,
  options: { readonly json: boolean },
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const client = new ApiClient(config);
  const id = await ruleIdOf(client, rule);
  const answer = await client.request<{ backfills: Backfill[] }>("GET", `/rules/${id}/backfills`);
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  const { backfills } = answer.body;
  if (options.json) {
    io.out(`${JSON.stringify(backfills, null, 2)}\n`);
    return 0;
  }
  if (backfills.length === 0) {
    io.out("no backfills: start one with `runhooks rules backfill <rule> --from 2d`\n");
    return 0;
  }
  io.out(
    table([
      ["ID", "STATE", "FROM", "TO", "RUNS READ", "WINDOWS", "ETA"],
      ...backfills.map((b) => [
        b.id,
        b.state,
        b.from,
        b.to ?? "-",
        `${b.runs_read}/${b.runs_total}`,
        String(b.windows_sent),
        b.eta_seconds === null ? "-" : `${b.eta_seconds}s`,
      ]),
    ]),
  );
  return 0;
}

/** `runhooks rules backfill-cancel <rule> <backfill>`. */
export async function cancelBackfillCommand(
  rule: string,
  backfillId: string,
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const client = new ApiClient(config);
  const id = await ruleIdOf(client, rule);
  const answer = await client.request<Backfill>("POST", `/rules/${id}/backfills/${backfillId}/cancel`, {});
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  io.out(`backfill ${backfillId}: ${answer.body.state}\n`);
  return 0;
}

/** `runhooks rules replay <rule> --from --to`: deliver again the stored windows that started in the range. */
export async function replayCommand(
  rule: string,
  options: { readonly from: string; readonly to: string },
  config: CliConfig,
  io: CliIo,
  now: () => number = Date.now,
): Promise<number> {
  const client = new ApiClient(config);
  const id = await ruleIdOf(client, rule);
  const answer = await client.request<{ windows: number; queued: number; in_progress: number }>(
    "POST",
    `/rules/${id}/replay`,
    { from: parseTime(options.from, now()), to: parseTime(options.to, now()) },
  );
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  const { windows, queued, in_progress: inProgress } = answer.body;
  io.out(`${windows} windows: ${queued} deliveries queued again, ${inProgress} already in progress\n`);
  return 0;
}
