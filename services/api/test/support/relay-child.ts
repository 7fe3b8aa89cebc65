// A relay in its own process, so that a test can kill it for real (SIGKILL: no marking, no cleanup).
// RELAY_CRASH_AT=before_publish|before_commit|after_publish and RELAY_CRASH_ON_BATCH=n pick the moment.
import { connectDatabase } from "@runhooks/db";
import { createKafka } from "@runhooks/kafka";
import { startOutboxRelay } from "../../src/relay/outbox-relay.js";

const env = process.env;
const crashAt = env["RELAY_CRASH_AT"];
const crashOnBatch = Number(env["RELAY_CRASH_ON_BATCH"] ?? "1");
const say = (line: string) => process.stdout.write(`${line}\n`);

const db = connectDatabase({ url: env["DATABASE_URL"]!, poolSize: 2 });
const kafka = createKafka({
  brokers: env["KAFKA_BROKERS"]!.split(","),
  clientId: "relay-child",
  logLevel: "error",
  logger: () => undefined,
});
let batches = 0;
const relay = startOutboxRelay({
  db,
  databaseUrl: env["DATABASE_URL"]!,
  kafka,
  topic: env["RULES_TOPIC"]!,
  batchSize: Number(env["RELAY_BATCH_SIZE"] ?? "100"),
  pollIntervalMs: 200,
  retryDelayMs: 200,
  log: {
    info: (_f, m) => say(`info ${m}`),
    warn: (_f, m) => say(`warn ${m}`),
    error: (f, m) => say(`error ${m} ${String((f as { err?: unknown }).err)}`),
  },
  faults: (point, batch) => {
    if (point === "before_publish") batches++;
    if (point === crashAt && batches === crashOnBatch) {
      say(`crash ${point} batch ${batches} ids ${batch.map((e) => e.id).join(",")}`);
      process.kill(process.pid, "SIGKILL");
    }
  },
});
void relay.active.then(() => say("active"));
process.once("SIGTERM", () => {
  void relay
    .stop()
    .then(() => db.dispose())
    .then(() => process.exit(0));
});
