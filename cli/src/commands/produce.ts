import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { cliKafka, withKafka } from "../kafka.js";
import { progressOn } from "../progress.js";
import { openRunsProducer, type OutgoingRun } from "../runs/producer.js";
import { checkRunLine } from "../runs/read-lines.js";
import type { Terminal } from "../terminal.js";

export interface ProduceOptions {
  readonly file: string;
  readonly batch: number;
}

/** Bad lines named one by one up to this many; the rest are counted. */
const MAX_BAD_SHOWN = 20;

/**
 * `runhooks runs produce <file.jsonl>`: each line a run, sent to `<prefix>.runs` keyed by trace id.
 * Lines that are not runs are reported with their line numbers and not produced (see checkRunLine).
 * Exit code 0 when every line was produced, 1 when some were refused.
 */
export async function produceCommand(
  options: ProduceOptions,
  config: CliConfig,
  io: CliIo,
  terminal: Terminal,
): Promise<number> {
  const path = resolve(io.cwd, options.file);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CliError(`${options.file}: no such file`);
  }
  const kafka = cliKafka(config, "runhooks-cli-produce");
  const producer = await withKafka(config, () => openRunsProducer(kafka, config.topicPrefix));
  const progress = progressOn(io.err, terminal);
  let produced = 0;
  let bytes = 0;
  let lineNo = 0;
  const bad: { line: number; reason: string }[] = [];
  let batch: OutgoingRun[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await withKafka(config, () => producer.send(batch));
    produced += batch.length;
    batch = [];
    progress.update(bytes, size, `${produced} runs produced${bad.length > 0 ? `, ${bad.length} bad lines` : ""}`);
  };
  try {
    const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const text of lines) {
      lineNo++;
      bytes += Buffer.byteLength(text) + 1;
      const checked = checkRunLine(text, lineNo);
      if (checked.ok === "blank") continue;
      if (checked.ok) batch.push(checked.run);
      else bad.push({ line: checked.line, reason: checked.reason });
      if (batch.length >= options.batch) await flush();
    }
    await flush();
  } finally {
    await producer.close();
  }
  progress.finish();
  for (const b of bad.slice(0, MAX_BAD_SHOWN)) io.err(`${options.file}:${b.line}: ${b.reason}\n`);
  if (bad.length > MAX_BAD_SHOWN) io.err(`… and ${bad.length - MAX_BAD_SHOWN} more bad lines\n`);
  io.out(
    `produced ${produced} runs to ${config.topicPrefix}.runs${bad.length > 0 ? `; ${bad.length} bad lines not produced (listed above)` : ""}\n`,
  );
  return bad.length > 0 ? 1 : 0;
}
