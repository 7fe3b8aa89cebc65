import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { table } from "../table.js";

interface WebhookHealth {
  state: string;
  consecutive_failures: number;
  failing_since: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  disabled_at: string | null;
}

interface WebhookWithHealth {
  id: string;
  url: string;
  retry?: { schedule: string | number[] };
  health: WebhookHealth;
}

/** `runhooks webhooks list <rule>`: the rule's webhooks and their health. */
export async function listWebhooksCommand(
  rule: string,
  options: { json: boolean },
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const answer = await new ApiClient(config).request<{ rule_id: string; webhooks: WebhookWithHealth[] }>(
    "GET",
    `/rules/${encodeURIComponent(rule)}/webhooks`,
  );
  if (!answer.ok) {
    if (answer.status === 404)
      throw new CliError(`no rule ${rule} in your tenant (\`runhooks rules list\` shows yours)`);
    throw new CliError(describeRefusal(answer).join("; "));
  }
  if (options.json) {
    io.out(`${JSON.stringify(answer.body, null, 2)}\n`);
    return 0;
  }
  const rows = [
    ["WEBHOOK", "STATE", "FAILED IN A ROW", "LAST SUCCESS", "RETRY", "URL"],
    ...answer.body.webhooks.map((w) => [
      w.id,
      w.health.state,
      String(w.health.consecutive_failures),
      w.health.last_success_at ?? "-",
      w.retry === undefined
        ? "default"
        : Array.isArray(w.retry.schedule)
          ? `${w.retry.schedule.join(",")} s`
          : w.retry.schedule,
      w.url,
    ]),
  ];
  io.out(`${table(rows)}\n`);
  return 0;
}

/** `runhooks webhooks enable <rule> <webhook>`: a disabled webhook receives windows again. */
export async function enableWebhookCommand(
  rule: string,
  webhook: string,
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const answer = await new ApiClient(config).request<{ was: string }>(
    "POST",
    `/rules/${encodeURIComponent(rule)}/webhooks/${encodeURIComponent(webhook)}/enable`,
  );
  if (!answer.ok) {
    if (answer.status === 404)
      throw new CliError(
        `no webhook ${webhook} in rule ${rule} (\`runhooks webhooks list ${rule}\` shows its webhooks)`,
      );
    throw new CliError(describeRefusal(answer).join("; "));
  }
  io.out(
    answer.body.was === "disabled"
      ? `enabled ${webhook}; what it missed is skipped: \`runhooks deliveries recover --since <when> --rule ${rule}\` sends it\n`
      : `${webhook} was ${answer.body.was}; it is enabled\n`,
  );
  return 0;
}

interface TestSent {
  delivery_id: string;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
}

/** `runhooks webhooks test <rule> [--webhook id]`: a signed sample window to each (or one) webhook, now. */
export async function testWebhooksCommand(
  rule: string,
  options: { webhook?: string; json: boolean },
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const client = new ApiClient(config);
  let ids: string[];
  if (options.webhook !== undefined) ids = [options.webhook];
  else {
    const listed = await client.request<{ webhooks: { id: string }[] }>(
      "GET",
      `/rules/${encodeURIComponent(rule)}/webhooks`,
    );
    if (!listed.ok) {
      if (listed.status === 404)
        throw new CliError(`no rule ${rule} in your tenant (\`runhooks rules list\` shows yours)`);
      throw new CliError(describeRefusal(listed).join("; "));
    }
    ids = listed.body.webhooks.map((w) => w.id);
  }
  const results: (TestSent & { webhook_id: string })[] = [];
  for (const id of ids) {
    const sent = await client.request<TestSent>(
      "POST",
      `/rules/${encodeURIComponent(rule)}/webhooks/${encodeURIComponent(id)}/test`,
    );
    if (!sent.ok) {
      if (sent.status === 404)
        throw new CliError(`no webhook ${id} in rule ${rule} (\`runhooks webhooks list ${rule}\` shows its webhooks)`);
      throw new CliError(describeRefusal(sent).join("; "));
    }
    results.push({ ...sent.body, webhook_id: id });
  }
  if (options.json) {
    io.out(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    const rows = [
      ["WEBHOOK", "OUTCOME", "STATUS", "MS", "DETAIL"],
      ...results.map((r) => [
        r.webhook_id,
        r.outcome,
        r.status_code === null ? "-" : String(r.status_code),
        r.duration_ms.toFixed(0),
        (r.error ?? r.response_excerpt ?? "").replace(/\s+/g, " ").slice(0, 80),
      ]),
    ];
    io.out(`${table(rows)}\n`);
  }
  return results.every((r) => r.outcome === "success") ? 0 : 1;
}
