import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";

interface Rotation {
  rule_id: string;
  webhook_id: string;
  version: number;
  signing_secret: string;
  previous_secret_expires_at: string | null;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `15m`, `1h`, `2d` → seconds; undefined when it is none of these. Pure. */
export function graceSeconds(text: string): number | undefined {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNITS[m[2] || "s"] ?? 1);
}

/**
 * `runhooks webhooks rotate-secret <rule> <webhook> [--grace 1h]`: a new signing secret, printed once
 * (on stdout alone, so it can be piped into a secret store); what to do next on stderr.
 */
export async function rotateSecretCommand(
  ruleId: string,
  webhookId: string,
  opts: { grace?: string | undefined },
  config: CliConfig,
  io: CliIo,
): Promise<number> {
  const grace = opts.grace === undefined ? undefined : graceSeconds(opts.grace);
  if (opts.grace !== undefined && grace === undefined)
    throw new CliError(`--grace ${opts.grace}: give a duration such as 3600, 90s, 15m, 1h or 2d`);
  const answer = await new ApiClient(config).request<Rotation>(
    "POST",
    `/rules/${encodeURIComponent(ruleId)}/webhooks/${encodeURIComponent(webhookId)}/rotate-secret`,
    grace === undefined ? {} : { grace_seconds: grace },
  );
  if (!answer.ok) {
    if (answer.status === 404)
      throw new CliError(
        `${answer.message} (\`runhooks rules list\` shows your rules; GET /rules/:id their webhook ids)`,
      );
    throw new CliError(describeRefusal(answer).join("; "));
  }
  const r = answer.body;
  io.out(`${r.signing_secret}\n`);
  io.err(
    r.previous_secret_expires_at === null
      ? `webhook ${r.webhook_id} signs with this secret from rule version ${r.version} on; it is not shown again\n`
      : `webhook ${r.webhook_id} signs with this secret from rule version ${r.version} on, and with the old one too until ${r.previous_secret_expires_at}; give it to the receiver before then. It is not shown again\n`,
  );
  return 0;
}
