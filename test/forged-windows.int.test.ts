import { randomUUID, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { WindowDeadLetter } from "@runhooks/contracts";
import {
  createDeliveryHarness,
  eventually,
  makeRun,
  windowPart,
  windowPartBundle,
  type DeliveryHarness,
} from "../services/delivery/test/harness.js";
import { reply, startReceiver, type Receiver } from "../services/delivery/test/receiver.js";
import { readTopic } from "./support/read-topic.js";

/**
 * Anyone who may write the windows topic could write a part naming another tenant's rule. Delivery
 * checks every part against the rule store first: what does not match is dead-lettered with its
 * reason and never reaches a webhook. Decided by events: the forged parts are written before a genuine
 * window on the same windows partition (keyed by the same rule id), which delivery reads in order; once
 * the genuine window is delivered, the forged ones were read before it.
 */
describe("forged windows", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it("are dead-lettered with their reason and never sent to the victim's webhook", async () => {
    h = await createDeliveryHarness("forged");
    receiver = await startReceiver(reply(200));
    const victim = await h.createRule([{ url: `${receiver.url}/victim` }]);
    const attacker = await h.createTenant("attacker");
    const service = await h.start();

    const forged = (tenantId: string, ruleId: string, version: number) => {
      const range = h!.nextRange();
      return windowPart({ ruleId, version, tenantId, ...range, runs: [makeRun(tenantId)] });
    };
    // The victim's rule under the attacker's tenant and a version the rule does not have (in one bundle,
    // as the evaluator publishes parts), a rule that does not exist, and a message that is no part at
    // all; all on the victim's rule's windows partition.
    const mismatch = forged(attacker, victim.ruleId, victim.version);
    const noVersion = forged(h.tenantId, victim.ruleId, victim.version + 41);
    const noRule = { ...forged(h.tenantId, randomUUID(), 1) };
    // And an entry the contract refuses (a version 0, as contract skew would write): refused alone.
    const skewed = { ...forged(h.tenantId, victim.ruleId, victim.version), rule_version: 0 };
    const bundle = JSON.parse(windowPartBundle([mismatch, noVersion, { ...skewed, rule_version: 1 }])) as {
      parts: { rule_version: number }[];
    };
    bundle.parts[2]!.rule_version = 0;
    await h.publishRaw([
      { key: victim.ruleId, value: JSON.stringify(bundle), headers: { "runhooks-kind": "parts" } },
      { key: victim.ruleId, value: JSON.stringify(noRule), headers: { "runhooks-kind": "part" } },
      { key: victim.ruleId, value: "{forged", headers: { "runhooks-kind": "part" } },
    ]);
    const [genuine] = await h.publishWindows(victim, 1);

    await eventually("the genuine window delivered", async () =>
      (await h!.deliveries()).some((d) => d.status === "succeeded"),
    );
    await eventually("every message handled", () => h!.windowsConsumed());

    // Only the genuine window reached the receiver: one request, its runs.
    expect(receiver.received).toHaveLength(1);
    const body = JSON.parse(receiver.received[0]!.body.toString()) as { runs: { id: string }[] };
    expect(body.runs.map((r) => r.id)).toEqual(genuine!.runs.map((r) => r.id));
    const sent = receiver.received.map((r) => r.body.toString()).join("\n");
    for (const part of [mismatch, noVersion, noRule, skewed]) expect(sent).not.toContain(part.runs[0]!.id);
    expect(await h.deliveries()).toHaveLength(1);

    // Each forged message is on the dead-letter topic with its reason, what it claimed and its bytes.
    const read = await readTopic(h.kafka, h.topics.windowsDlq, 5);
    // A bundle's part alone, under its rule id as a single part would be.
    expect(read.map((m) => m.message.key?.toString())).toEqual(read.map(() => victim.ruleId));
    const letters = read.map((m) => WindowDeadLetter.parse(JSON.parse(m.message.value!.toString())));
    const original = (l: WindowDeadLetter) => Buffer.from(l.original, "base64").toString();
    // The skewed entry, alone, as the part it stands for, at the bundle's offset.
    const skewedLetter = letters.find((l) => l.reason === "invalid" && original(l) !== "{forged")!;
    expect(JSON.parse(original(skewedLetter))).toEqual(skewed);
    expect(skewedLetter.error).toMatch(/^bundle: parts\.2\.rule_version/);
    const byReason = new Map(letters.filter((l) => l !== skewedLetter).map((l) => [l.reason, l]));
    expect([...byReason.keys()].sort()).toEqual(["invalid", "tenant_mismatch", "unknown_rule", "unknown_rule_version"]);
    expect(byReason.get("tenant_mismatch")).toMatchObject({
      tenant_id: attacker,
      rule_id: victim.ruleId,
      rule_version: victim.version,
      topic: h.topics.windows,
    });
    expect(byReason.get("tenant_mismatch")!.error).not.toContain(h.tenantId);
    // A bundle's refused part is kept as the WindowPart it stands for; both came from one message.
    expect(JSON.parse(Buffer.from(byReason.get("tenant_mismatch")!.original, "base64").toString())).toEqual(mismatch);
    expect(JSON.parse(Buffer.from(byReason.get("unknown_rule_version")!.original, "base64").toString())).toEqual(
      noVersion,
    );
    expect(byReason.get("unknown_rule_version")!.offset).toBe(byReason.get("tenant_mismatch")!.offset);
    expect(skewedLetter.offset).toBe(byReason.get("tenant_mismatch")!.offset);
    expect(byReason.get("unknown_rule_version")).toMatchObject({ rule_version: victim.version + 41 });
    expect(byReason.get("unknown_rule")).toMatchObject({ rule_id: noRule.rule_id });
    expect(byReason.get("invalid")).toMatchObject({ rule_id: null, tenant_id: null });
    expect(Buffer.from(byReason.get("invalid")!.original, "base64").toString()).toBe("{forged");
    expect(service.counters.windowsDeadLettered).toEqual({
      tenant_mismatch: 1,
      unknown_rule_version: 1,
      unknown_rule: 1,
      invalid: 2,
    });
  }, 60_000);
});

/**
 * The largest invalid message delivery can read — a bundle of ~900 KiB — is dead-lettered (its base64
 * larger than the broker's default record batch), and the windows partition goes on past it.
 */
describe("an invalid bundle of ~900 KiB", () => {
  let h: DeliveryHarness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it("is dead-lettered whole and the partition goes on", async () => {
    h = await createDeliveryHarness("big-invalid");
    receiver = await startReceiver(reply(200));
    const rule = await h.createRule([{ url: `${receiver.url}/hook` }]);
    const service = await h.start();
    const range = h.nextRange();
    // Random padding: the dead letter's compressed batch stays over the broker's default 1 MiB, so it
    // is the topic's own max.message.bytes that lets it through.
    const runs = Array.from({ length: 1400 }, () => ({
      ...makeRun(h!.tenantId),
      pad: randomBytes(75).toString("base64"),
    }));
    const part = windowPart({ ruleId: rule.ruleId, version: rule.version, tenantId: h.tenantId, ...range, runs });
    // schema_version 2: the whole bundle is invalid.
    const big = JSON.stringify({ ...(JSON.parse(windowPartBundle([part])) as object), schema_version: 2 });
    expect(big.length).toBeGreaterThan(850 * 1024);
    expect(big.length).toBeLessThan(1_000_000);
    await h.publishRaw([{ key: rule.ruleId, value: big, headers: { "runhooks-kind": "parts" } }]);
    const [genuine] = await h.publishWindows(rule, 1);

    await eventually("the genuine window after it delivered", async () =>
      (await h!.deliveries()).some((d) => d.status === "succeeded"),
    );
    const body = JSON.parse(receiver.received[0]!.body.toString()) as { runs: { id: string }[] };
    expect(body.runs.map((r) => r.id)).toEqual(genuine!.runs.map((r) => r.id));
    const [read] = await readTopic(h.kafka, h.topics.windowsDlq, 1);
    const letter = WindowDeadLetter.parse(JSON.parse(read!.message.value!.toString()));
    expect(letter.reason).toBe("invalid");
    expect(Buffer.from(letter.original, "base64").toString()).toBe(big);
    expect(read!.message.value!.length).toBeGreaterThan(1_048_588);
    // Once, or again if a rebalance made the partition read it twice (dead letters are at least once).
    expect(service.counters.windowsDeadLettered["invalid"]).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
