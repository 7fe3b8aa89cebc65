import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli } from "@runhooks/cli";
import { SCHEMA_VERSION, type DeliveryAttempt } from "@runhooks/contracts";
import { ensureTopics, topicNames, topicSpecs } from "@runhooks/kafka";
import { readTopic } from "../../test/support/read-topic.js";
import { testKafka, uniquePrefix } from "../../test/support/stack.js";

let prefix: string;
let dir: string;

beforeAll(async () => {
  prefix = uniquePrefix("cli-kafka");
  dir = await mkdtemp(join(tmpdir(), "runhooks-cli-"));
  const admin = testKafka().admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, runsPartitions: 2 }));
  await admin.disconnect();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}, tty = { out: false, err: false }) {
  let out = "";
  let err = "";
  const code = await runCli(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { KAFKA_BROKERS: inject("kafkaBrokers").join(","), RUNHOOKS_TOPIC_PREFIX: prefix, ...env },
    cwd: dir,
    tty,
  });
  return { code, out, err };
}

const tenant = randomUUID();
const run = (id: string, trace: string) =>
  JSON.stringify({
    id,
    trace_id: trace,
    name: "ChatOpenAI",
    run_type: "llm",
    start_time: "2024-04-05T01:28:50.120000",
    end_time: "2024-04-05T01:28:51.000000",
    tenant_id: tenant,
  });

describe("runhooks runs produce", () => {
  it("produces the valid lines keyed by trace id, and names the bad ones by line number", async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const trace = randomUUID();
    const lines = [
      run(ids[0]!, trace),
      "{not json",
      run(ids[1]!, trace),
      JSON.stringify({ id: randomUUID(), name: "x", run_type: "llm", start_time: "2024-04-05T01:28:50Z" }),
      "",
      run(ids[2]!, ids[2]!),
    ];
    await writeFile(join(dir, "runs.jsonl"), `${lines.join("\n")}\n`);
    const result = await cli(["runs", "produce", "runs.jsonl"]);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`produced 3 runs to ${prefix}.runs; 2 bad lines not produced`);
    expect(result.err).toContain("runs.jsonl:2: not JSON");
    expect(result.err).toMatch(/runs\.jsonl:4: not a run: .*tenant_id/);

    const seen = (await readTopic(testKafka(), topicNames(prefix).runs, 3)).map(({ message }) => ({
      key: message.key!.toString(),
      id: (JSON.parse(message.value!.toString()) as { id: string }).id,
    }));
    expect(seen.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(seen.find((s) => s.id === ids[0])!.key).toBe(trace);
    expect(seen.find((s) => s.id === ids[2])!.key).toBe(ids[2]);
  });

  it("says what to do when Kafka cannot be reached or the file is missing", async () => {
    await writeFile(join(dir, "one.jsonl"), `${run(randomUUID(), randomUUID())}\n`);
    const unreachable = await cli(["runs", "produce", "one.jsonl"], { KAFKA_BROKERS: "127.0.0.1:9" });
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toContain("cannot reach Kafka at 127.0.0.1:9");
    expect(unreachable.err).toContain("start it with `npm start`");
    const missing = await cli(["runs", "produce", "nope.jsonl"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("nope.jsonl: no such file");
  });
});

describe("runhooks tail", () => {
  const attempt = (outcome: DeliveryAttempt["outcome"], status: number | null): DeliveryAttempt => ({
    schema_version: SCHEMA_VERSION,
    delivery_id: randomUUID(),
    window_id: randomUUID(),
    rule_id: randomUUID(),
    webhook_id: randomUUID(),
    url: "https://example.com/hook?secret=***",
    attempt: 1,
    trigger: "scheduled",
    started_at: new Date().toISOString(),
    duration_ms: 12.5,
    outcome,
    status_code: status,
    error: null,
    response_excerpt: null,
  });

  async function tailWhile(
    args: string[],
    env: Record<string, string>,
    tty: { out: boolean; err: boolean },
    sent: DeliveryAttempt[],
  ) {
    const producer = testKafka().producer();
    await producer.connect();
    let ready: () => void = () => undefined;
    const following = new Promise<void>((resolve) => (ready = resolve));
    let out = "";
    const running = runCli(["tail", ...args], {
      out: (t) => (out += t),
      err: (t) => {
        if (t.startsWith("following")) ready();
      },
      env: { KAFKA_BROKERS: inject("kafkaBrokers").join(","), RUNHOOKS_TOPIC_PREFIX: prefix, ...env },
      cwd: dir,
      tty,
    });
    await following;
    // Joined, but its fetch position may not be set yet: send until the attempt shows.
    const topic = topicNames(prefix).attempts;
    for (let i = 0; i < 50 && out === ""; i++) {
      await producer.send({ topic, messages: sent.map((a) => ({ key: a.delivery_id, value: JSON.stringify(a) })) });
      await new Promise((r) => setTimeout(r, 200));
    }
    const code = await running;
    await producer.disconnect();
    return { code, out };
  }

  it("prints one line per attempt, coloured by outcome on a terminal", async () => {
    const ok = attempt("success", 200);
    const { code, out } = await tailWhile(["--max", "1"], {}, { out: true, err: true }, [ok]);
    expect(code).toBe(0);
    const line = out.split("\n")[0]!;
    expect(line).toContain(`delivery ${ok.delivery_id}`);
    expect(line).toContain("\u001b[32msuccess");
    expect(line).toContain("200  #1 scheduled");
  });

  it("respects NO_COLOR", async () => {
    const failed = attempt("http_4xx", 404);
    const { out } = await tailWhile(["--max", "1"], { NO_COLOR: "1" }, { out: true, err: true }, [failed]);
    expect(out).toContain("http_4xx");
    expect(out).not.toContain("\u001b[");
  });
});
