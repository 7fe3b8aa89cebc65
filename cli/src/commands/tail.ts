import { randomBytes } from "node:crypto";
import { DeliveryAttempt } from "@runhooks/contracts";
import { groupConsumer, topicNames } from "@runhooks/kafka";
import type { CliConfig } from "../config.js";
import type { CliIo } from "../io.js";
import { cliKafka, withKafka } from "../kafka.js";
import { paint, type Colour, type Terminal } from "../terminal.js";

export interface TailOptions {
  readonly rule?: string;
  /** Stop after this many attempts (for scripts and tests); unset: until Ctrl-C. */
  readonly max?: number;
  readonly json: boolean;
  /** Resolved once following (the consumer has its partitions): attempts from then on are shown. */
  readonly onReady?: () => void;
}

/** Green succeeded; yellow may be retried (5xx, could not connect); red will not be. */
export function outcomeColour(outcome: DeliveryAttempt["outcome"]): Colour {
  if (outcome === "success") return "green";
  if (outcome === "http_5xx" || outcome === "connect_error") return "yellow";
  return "red";
}

/** One attempt, one line: time, outcome, status, attempt number and trigger, duration, ids, URL (redacted). */
export function formatAttempt(a: DeliveryAttempt, terminal: Terminal): string {
  const outcome = paint(terminal, outcomeColour(a.outcome), a.outcome.padEnd(13));
  const status = a.status_code === null ? "-  " : String(a.status_code);
  const detail = a.error === null ? "" : `  ${paint(terminal, "grey", a.error.replace(/\s+/g, " ").slice(0, 100))}`;
  return `${a.started_at}  ${outcome} ${status}  #${a.attempt} ${a.trigger.padEnd(9)} ${a.duration_ms.toFixed(0).padStart(5)} ms  delivery ${a.delivery_id}  rule ${a.rule_id}  ${a.url}${detail}`;
}

/**
 * `runhooks tail`: follows `<prefix>.attempts` from now, one line per attempt. A throw-away consumer
 * group (deleted on exit) so it never takes messages from anyone else; the attempts topic is
 * at-least-once, so after a crash of delivery an attempt may show twice.
 */
export async function tailCommand(
  options: TailOptions,
  config: CliConfig,
  io: CliIo,
  terminal: Terminal,
): Promise<number> {
  const topic = topicNames(config.topicPrefix).attempts;
  const kafka = cliKafka(config, "runhooks-cli-tail");
  const groupId = `runhooks-tail-${randomBytes(6).toString("hex")}`;
  const consumer = groupConsumer(kafka, {
    groupId,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    allowAutoTopicCreation: false,
  });
  let shown = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onSignal = () => done();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await withKafka(config, async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      io.err(`following ${topic} (Ctrl-C stops)\n`);
      options.onReady?.();
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ message }) => {
        if (shown >= (options.max ?? Number.POSITIVE_INFINITY)) return Promise.resolve();
        let parsed: unknown;
        try {
          parsed = JSON.parse(message.value?.toString() ?? "");
        } catch {
          parsed = undefined;
        }
        const attempt = DeliveryAttempt.safeParse(parsed);
        if (!attempt.success) {
          io.err(`skipped an unreadable message at offset ${message.offset}\n`);
          return Promise.resolve();
        }
        if (options.rule !== undefined && attempt.data.rule_id !== options.rule) return Promise.resolve();
        io.out(options.json ? `${JSON.stringify(attempt.data)}\n` : `${formatAttempt(attempt.data, terminal)}\n`);
        shown++;
        if (options.max !== undefined && shown >= options.max) done();
        return Promise.resolve();
      },
    });
    await finished;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => void admin.disconnect().catch(() => undefined));
  }
  return 0;
}
