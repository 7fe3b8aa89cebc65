import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { table } from "../table.js";

interface Delivery {
  id: string;
  window_id: string;
  rule_id: string;
  rule_version: number;
  webhook_id: string;
  url: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_outcome: string | null;
  last_status_code: number | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

interface Attempt {
  attempt: number;
  trigger: string;
  started_at: string;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
  url: string;
}

export interface ListDeliveriesOptions {
  readonly rule?: string;
  readonly status?: string;
  readonly since?: string;
  readonly limit: string;
  readonly json: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireId(id: string): string {
  if (!UUID.test(id)) throw new CliError(`${id} is not a delivery id (a UUID, as \`runhooks deliveries list\` shows)`);
  return id;
}

function outcomeCell(d: Delivery): string {
  if (d.last_outcome === null) return "-";
  return d.last_status_code === null ? d.last_outcome : `${d.last_outcome} (${d.last_status_code})`;
}

/** `runhooks deliveries list`: the tenant's deliveries, newest first. */
export async function listDeliveriesCommand(
  options: ListDeliveriesOptions,
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const query = new URLSearchParams();
  if (options.rule !== undefined) query.set("rule_id", options.rule);
  if (options.status !== undefined) query.set("status", options.status);
  if (options.since !== undefined) query.set("since", options.since);
  query.set("limit", options.limit);
  const answer = await new ApiClient(config).request<{ deliveries: Delivery[] }>(
    "GET",
    `/deliveries?${query.toString()}`,
  );
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  const { deliveries } = answer.body;
  if (options.json) {
    io.out(`${JSON.stringify(deliveries, null, 2)}\n`);
    return 0;
  }
  if (deliveries.length === 0) {
    io.out("no deliveries match: rules deliver once a window of matching runs closes (see `runhooks rules list`)\n");
    return 0;
  }
  const rows = [
    ["ID", "RULE", "STATUS", "ATTEMPTS", "LAST OUTCOME", "CREATED", "URL"],
    ...deliveries.map((d) => [d.id, d.rule_id, d.status, String(d.attempts), outcomeCell(d), d.created_at, d.url]),
  ];
  io.out(`${table(rows)}\n`);
  return 0;
}

/** `runhooks deliveries show <id>`: one delivery and every attempt it made. */
export async function showDeliveryCommand(
  id: string,
  options: { json: boolean },
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const answer = await new ApiClient(config).request<Delivery & { attempt_history: Attempt[] }>(
    "GET",
    `/deliveries/${requireId(id)}`,
  );
  if (!answer.ok) {
    if (answer.status === 404)
      throw new CliError(`no delivery ${id} in your tenant (\`runhooks deliveries list\` shows yours)`);
    throw new CliError(describeRefusal(answer).join("; "));
  }
  const d = answer.body;
  if (options.json) {
    io.out(`${JSON.stringify(d, null, 2)}\n`);
    return 0;
  }
  const fields: [string, string][] = [
    ["delivery", d.id],
    ["status", d.status],
    ["rule", `${d.rule_id} (version ${d.rule_version})`],
    ["window", d.window_id],
    ["webhook", `${d.webhook_id}  ${d.url}`],
    ["created", d.created_at],
    ["completed", d.completed_at ?? "-"],
    ["next attempt", d.next_attempt_at ?? "-"],
  ];
  io.out(`${fields.map(([k, v]) => `${k.padEnd(13)}${v}`).join("\n")}\n\n`);
  if (d.attempt_history.length === 0) {
    io.out("no attempts yet\n");
    return 0;
  }
  const rows = [
    ["#", "TRIGGER", "STARTED", "MS", "OUTCOME", "STATUS", "DETAIL"],
    ...d.attempt_history.map((a) => [
      String(a.attempt),
      a.trigger,
      a.started_at,
      a.duration_ms.toFixed(0),
      a.outcome,
      a.status_code === null ? "-" : String(a.status_code),
      (a.error ?? a.response_excerpt ?? "").replace(/\s+/g, " ").slice(0, 80),
    ]),
  ];
  io.out(`${table(rows)}\n`);
  return 0;
}

/** `runhooks deliveries redeliver <id>`: one more round for a finished delivery. */
export async function redeliverCommand(id: string, config: CliConfig, io: CliIo): Promise<number> {
  const answer = await new ApiClient(config).request<Delivery>("POST", `/deliveries/${requireId(id)}/redeliver`);
  if (!answer.ok) {
    if (answer.status === 404)
      throw new CliError(`no delivery ${id} in your tenant (\`runhooks deliveries list\` shows yours)`);
    if (answer.status === 409)
      throw new CliError(`${answer.message}; \`runhooks deliveries show ${id}\` shows where it is`);
    throw new CliError(describeRefusal(answer).join("; "));
  }
  io.out(
    `redelivery of ${id} queued (attempt ${answer.body.attempts + 1} will be manual); follow it with \`runhooks deliveries show ${id}\` or \`runhooks tail\`\n`,
  );
  return 0;
}
