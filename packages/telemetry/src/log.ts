export type Level = "error" | "warn" | "info" | "debug";
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

const order: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * One JSON object per line on stderr (or `write`). Callers keep payloads and secrets out of the fields:
 * URLs only redacted (`redactUrl`), error texts only after `redactText` with the webhook's secrets.
 */
export function jsonLogger(
  service: string,
  minimum: Level,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  return (level, message, fields) => {
    if (order[level] > order[minimum]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, service, message, ...fields })}\n`);
  };
}
