import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// Lints made-up source as if it lived at a real path of the repo, so the boundary rules are proven
// to fire (a rule that never fires would pass `npm run lint` just as well).
const eslint = new ESLint({ cwd: new URL("..", import.meta.url).pathname });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? "fatal"}: ${m.message}`);
}

describe("package boundaries", () => {
  it("refuses Node I/O in @runhooks/contracts", async () => {
    const messages = await ruleIds(
      "packages/contracts/src/common.ts",
      'import { readFileSync } from "node:fs";\nexport const x = readFileSync;\n',
    );
    expect(messages.join("\n")).toMatch(/no-restricted-imports: .*depends on zod only/);
  });

  it("refuses other libraries in @runhooks/contracts", async () => {
    const messages = await ruleIds(
      "packages/contracts/src/common.ts",
      'import kafkajs from "kafkajs";\nexport const x = kafkajs;\n',
    );
    expect(messages.join("\n")).toMatch(/no-restricted-imports/);
  });

  it("refuses the clock and the environment in a pure package", async () => {
    const messages = await ruleIds(
      "packages/contracts/src/common.ts",
      "export const now = Date.now();\nexport const e = process.env;\n",
    );
    expect(messages.join("\n")).toMatch(/no-restricted-properties: .*No clock/);
    expect(messages.join("\n")).toMatch(/no-restricted-globals: .*process/);
  });

  it("refuses process.env in any package", async () => {
    const messages = await ruleIds(
      "packages/kafka/src/client.ts",
      'export const brokers = process.env["KAFKA_BROKERS"];\n',
    );
    expect(messages.join("\n")).toMatch(/no-restricted-properties: .*env\.ts/);
  });

  it("refuses deep imports into another package's src", async () => {
    const messages = await ruleIds(
      "infra/src/stack.ts",
      'export { topicSpecs } from "@runhooks/kafka/src/topics.js";\n',
    );
    expect(messages.join("\n")).toMatch(/no-restricted-imports: .*entry point/);
    const relative = await ruleIds(
      "infra/src/stack.ts",
      'export { topicSpecs } from "../../packages/kafka/src/topics.js";\n',
    );
    expect(relative.join("\n")).toMatch(/no-restricted-imports: .*entry point/);
  });

  it("refuses a kafkajs client not built by createKafka (it would lack the windows topic's codec)", async () => {
    const messages = await ruleIds(
      "services/delivery/src/index.ts",
      'import { Kafka } from "kafkajs";\nexport const k = new Kafka({ brokers: ["b:9092"] });\n',
    );
    expect(messages.join("\n")).toMatch(/no-restricted-syntax: .*createKafka/);
    const own = await ruleIds(
      "packages/kafka/src/client.ts",
      'import { Kafka } from "kafkajs";\nexport const k = new Kafka({ brokers: ["b:9092"] });\n',
    );
    expect(own.filter((m) => m.startsWith("no-restricted-syntax"))).toEqual([]);
  });

  it("refuses a kafkajs consumer not made by groupConsumer (it would lack the subscription-aware assigner)", async () => {
    const code =
      'import type { Kafka } from "kafkajs";\nexport const c = (k: Kafka) => k.consumer({ groupId: "g" });\n';
    for (const path of [
      "services/evaluator/src/runs-consumer.ts",
      "services/api/src/rule-errors/consumer.ts",
      "packages/kafka/src/client.ts",
      "cli/src/commands/tail.ts",
    ]) {
      const messages = await ruleIds(path, code);
      expect(messages.join("\n"), path).toMatch(/no-restricted-syntax: .*groupConsumer/);
    }
    const own = await ruleIds("packages/kafka/src/group-consumer.ts", code);
    expect(own.filter((m) => m.startsWith("no-restricted-syntax"))).toEqual([]);
    // Both rules hold in a service: the consumer's does not replace the client's.
    const client = await ruleIds(
      "services/delivery/src/windows-consumer.ts",
      'import { Kafka } from "kafkajs";\nexport const k = new Kafka({ brokers: ["b:9092"] });\n',
    );
    expect(client.join("\n")).toMatch(/no-restricted-syntax: .*createKafka/);
  });

  it("refuses the clock, timers and I/O in the delivery service's pure cores, not in its shells", async () => {
    const clock = await ruleIds(
      "services/delivery/src/lane-table.ts",
      "export const now = Date.now();\nexport const t = setTimeout;\n",
    );
    expect(clock.join("\n")).toMatch(/no-restricted-properties: .*No clock/);
    expect(clock.join("\n")).toMatch(/no-restricted-globals: .*No timers/);
    const io = await ruleIds(
      "services/delivery/src/policy.ts",
      'import { claimDeliveries } from "@runhooks/db";\nexport const c = claimDeliveries;\n',
    );
    expect(io.join("\n")).toMatch(/no-restricted-imports: .*only types from an I\/O package/);
    const node = await ruleIds(
      "services/delivery/src/window-batch.ts",
      'import { readFileSync } from "node:fs";\nexport const r = readFileSync;\n',
    );
    expect(node.join("\n")).toMatch(/no-restricted-imports: .*No I\/O in a pure core/);
    const types = await ruleIds(
      "services/delivery/src/finished-attempt.ts",
      'import type { ClaimedDelivery } from "@runhooks/db";\nexport type D = ClaimedDelivery;\n',
    );
    expect(types.filter((m) => m.includes("no-restricted"))).toEqual([]);
    const shell = await ruleIds(
      "services/delivery/src/workers.ts",
      'import { claimDeliveries } from "@runhooks/db";\nexport const c = claimDeliveries;\nexport const now = Date.now();\n',
    );
    expect(shell.filter((m) => m.includes("no-restricted"))).toEqual([]);
  });

  it("refuses an import cycle, type-only imports included", async () => {
    // run.ts imports common.ts: common.ts importing run.ts back closes a cycle.
    const messages = await ruleIds(
      "packages/contracts/src/common.ts",
      'import { Run } from "./run.js";\nexport const X = Run;\n',
    );
    expect(messages.join("\n")).toMatch(/local\/no-import-cycle: Import cycle: common\.ts → run\.ts → common\.ts/);
    const types = await ruleIds(
      "packages/contracts/src/common.ts",
      'import type { Run } from "./run.js";\nexport type X = Run;\n',
    );
    expect(types.join("\n")).toMatch(/local\/no-import-cycle: Import cycle: common\.ts → run\.ts → common\.ts/);
    const reexport = await ruleIds("packages/contracts/src/common.ts", 'export type { Run } from "./run.js";\n');
    expect(reexport.join("\n")).toMatch(/local\/no-import-cycle/);
  });

  it("accepts the package's own code", async () => {
    const messages = await ruleIds(
      "packages/contracts/src/run.ts",
      'import { z } from "zod";\nimport { Id } from "./common.js";\nexport const X = z.object({ id: Id });\n',
    );
    expect(messages.filter((m) => m.startsWith("no-restricted") || m.startsWith("local/no-import-cycle"))).toEqual([]);
  });
});
