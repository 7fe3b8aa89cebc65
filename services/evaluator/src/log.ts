export type Level = "error" | "warn" | "info" | "debug";
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

const order: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** One JSON object per line on stderr. Fields never include run contents or secrets. */
export function jsonLogger(service: string, minimum: Level): Logger {
  return (level, message, fields) => {
    if (order[level] > order[minimum]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, service, message, ...fields })}\n`);
  };
}
