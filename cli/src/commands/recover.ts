import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `2h`, `30m`, `1d`, `90s` before `now`, or an ISO-8601 time; undefined when it is neither. */
export function timeOf(value: string, now: number): string | undefined {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  if (relative) return new Date(now - Number(relative[1]) * UNIT_MS[relative[2]!]!).toISOString();
  const at = Date.parse(value);
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(at) ? new Date(at).toISOString() : undefined;
}

export interface RecoverOptions {
  readonly since: string;
  readonly until?: string;
  readonly rule?: string;
  readonly webhook?: string;
}

/**
 * `runhooks deliveries recover --since 2h`: queues failed and skipped deliveries again, calling the API
 * until none remain (each call queues at most its maximum).
 */
export async function recoverCommand(
  options: RecoverOptions,
  config: CliConfig,
  io: CliIo,
  now = Date.now(),
): Promise<number> {
  const since = timeOf(options.since, now);
  if (since === undefined)
    throw new CliError(`--since ${options.since}: give a duration (90s, 30m, 2h, 1d) or an ISO-8601 time`, "usage");
  const until = options.until === undefined ? new Date(now).toISOString() : timeOf(options.until, now);
  if (until === undefined) throw new CliError(`--until ${options.until}: give a duration or an ISO-8601 time`, "usage");
  const client = new ApiClient(config);
  let total = 0;
  for (;;) {
    const answer = await client.request<{ queued: number; more: boolean }>("POST", "/deliveries/recover", {
      since,
      until,
      ...(options.rule === undefined ? {} : { rule_id: options.rule }),
      ...(options.webhook === undefined ? {} : { webhook_id: options.webhook }),
    });
    if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
    total += answer.body.queued;
    if (!answer.body.more || answer.body.queued === 0) break;
  }
  io.out(`queued ${total} failed or skipped deliver${total === 1 ? "y" : "ies"} created since ${since} again\n`);
  return 0;
}
