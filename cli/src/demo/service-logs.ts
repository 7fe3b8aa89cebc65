import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * While the demo runs, the services' JSON log lines (kafkajs complaining while a fresh broker elects
 * its group coordinator, a relay retry…) go to a file instead of between the demo's own lines; the
 * demo's lines and progress are not JSON and pass through. Returns the restore function.
 */
export async function divertServiceLogs(file: string): Promise<() => Promise<void>> {
  await mkdir(dirname(file), { recursive: true });
  const log = createWriteStream(file, { flags: "a" });
  const original = process.stderr.write.bind(process.stderr);
  let diverted = 0;
  process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (text.startsWith("{")) {
      diverted++;
      return log.write(text);
    }
    return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  };
  return async () => {
    process.stderr.write = original;
    await new Promise<void>((resolve) => log.end(resolve));
    if (diverted > 0) original(`[demo] ${diverted} service log lines are in ${file}\n`);
  };
}
