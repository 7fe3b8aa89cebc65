import { describe, expect, it } from "vitest";
import { planRotation, resolveWebhooks, type StoredWebhook } from "@runhooks/db";

const A = "6ab80f10-d79c-4fa2-b441-922ed6feb630";
const B = "0b5f8d56-3b8e-4c41-9d47-0c6c1a3d7f10";
const OLD = "whsec_b2xkb2xkb2xkb2xkb2xkb2xk";
const NEW = "whsec_bmV3bmV3bmV3bmV3bmV3bmV3";
const NEWER = "whsec_bmV3ZXJuZXdlcm5ld2VybmV3ZXI=";
const NOW = new Date("2026-12-06T12:00:00.000Z");

const hook = (patch: Partial<StoredWebhook> = {}): StoredWebhook => ({
  id: A,
  url: "https://example.com/in",
  headers: {},
  signing_secret: OLD,
  ...patch,
});

describe("planRotation", () => {
  it.each([
    [
      "the old secret overlaps for the grace period",
      hook(),
      3600,
      { signing_secret: NEW, previous_signing_secret: { secret: OLD, until: "2026-12-06T13:00:00.000Z" } },
    ],
    ["no overlap with a grace of 0", hook(), 0, { signing_secret: NEW, previous_signing_secret: undefined }],
    [
      "a webhook without a secret gets one, with nothing to overlap",
      hook({ signing_secret: undefined }),
      3600,
      { signing_secret: NEW, previous_signing_secret: undefined },
    ],
    [
      "a second rotation keeps two secrets: the earlier previous one is dropped",
      hook({
        previous_signing_secret: { secret: "whsec_ZWFybGllcmVhcmxpZXJlYXJs", until: "2026-12-07T00:00:00.000Z" },
      }),
      60,
      { signing_secret: NEW, previous_signing_secret: { secret: OLD, until: "2026-12-06T12:01:00.000Z" } },
    ],
  ])("%s", (_, webhook, grace, expected) => {
    const other = hook({ id: B, signing_secret: NEWER });
    const plan = planRotation([webhook, other], A, NEW, NOW, grace);
    if (!plan.ok) throw new Error("planned");
    expect(plan.webhooks[0]).toMatchObject({ id: A, url: webhook.url });
    expect(plan.webhooks[0]?.signing_secret).toBe(expected.signing_secret);
    expect(plan.webhooks[0]?.previous_signing_secret).toEqual(expected.previous_signing_secret);
    expect(plan.webhooks[1]).toEqual(other);
  });

  it("refuses a webhook the rule does not have", () => {
    expect(planRotation([hook()], B, NEW, NOW, 60)).toEqual({ ok: false, reason: "webhook_not_found" });
  });
});

describe("the overlap through later edits", () => {
  const rotated = hook({
    signing_secret: NEW,
    previous_signing_secret: { secret: OLD, until: "2026-12-07T00:00:00.000Z" },
  });

  it.each([
    ["kept when the secret is sent back redacted", { signing_secret: "whsec_***" }, true],
    ["kept when the same secret is sent", { signing_secret: NEW }, true],
    ["ended by a new secret", { signing_secret: NEWER }, false],
    ["ended when the secret is removed", { signing_secret: undefined }, false],
  ])("%s", (_, patch, kept) => {
    const incoming = { id: A, url: rotated.url, headers: {}, ...patch };
    const resolved = resolveWebhooks([incoming], [rotated]);
    if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
    expect(resolved.webhooks[0]?.previous_signing_secret).toEqual(kept ? rotated.previous_signing_secret : undefined);
  });
});
