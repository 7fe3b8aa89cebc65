// A webhook receiver in a child process (its arrival times do not wait for the bench's event loop):
// answers 204 and reports each request as one line.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** One request as the receiver saw it. */
export interface Arrival {
  readonly at: number;
  readonly deliveryId: string;
  readonly ruleId: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** The `runhooks-backfill` header: the backfill that made the window; undefined for a live window. */
  readonly backfillId: string | undefined;
  readonly runIds: readonly string[];
}

export interface Receiver {
  readonly port: number;
  /** Every request so far, in arrival order (appended to as requests arrive). */
  readonly arrivals: readonly Arrival[];
  stop(): void;
}

// One line per request: arrival ms, delivery id, rule id, window start, window end, chunk index and
// count, the backfill id ("-" for none), the run ids.
const SCRIPT = `
  const http = require("node:http");
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const t = Date.now();
      res.writeHead(204).end();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        const chunk = req.headers["runhooks-chunk-index"] + " " + req.headers["runhooks-chunk-count"];
        const backfill = req.headers["runhooks-backfill"] || "-";
        process.stdout.write([t, req.headers["webhook-id"], body.rule_id, body.start_time, body.end_time, chunk, backfill, body.runs.map((r) => r.id).join(",")].join(" ") + "\\n");
      } catch {}
    });
  });
  server.keepAliveTimeout = 30000;
  server.listen(0, "127.0.0.1", () => process.stdout.write("port " + server.address().port + "\\n"));
  process.on("SIGTERM", () => process.exit(0));
`;

export async function startReceiver(): Promise<Receiver> {
  const child = spawn(process.execPath, ["-e", SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  const arrivals: Arrival[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the receiver exited (${code})`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("port ")) return resolve(Number(line.slice(5)));
      const [at, deliveryId, ruleId, start, end, chunkIndex, chunkCount, backfill, ids] = line.split(" ");
      arrivals.push({
        at: Number(at),
        deliveryId: deliveryId!,
        ruleId: ruleId!,
        windowStart: Date.parse(start!),
        windowEnd: Date.parse(end!),
        chunkIndex: Number(chunkIndex),
        chunkCount: Number(chunkCount),
        backfillId: backfill === "-" ? undefined : backfill,
        runIds: (ids ?? "").split(","),
      });
    });
  });
  return { port, arrivals, stop: () => void child.kill("SIGTERM") };
}

/** Each delivery's first request (a retried delivery arrives more than once). */
export function firstArrivals(arrivals: readonly Arrival[]): Map<string, Arrival> {
  const first = new Map<string, Arrival>();
  for (const a of arrivals)
    if (!first.has(a.deliveryId) || a.at < first.get(a.deliveryId)!.at) first.set(a.deliveryId, a);
  return first;
}
