import { describe, expect, it } from "vitest";
import { resolveWebhooks, type StoredWebhook } from "@runhooks/db";

const stored: StoredWebhook = {
  id: "11111111-1111-4111-8111-111111111111",
  url: "https://hooks.example.com/in?secret=s3cr3t",
  headers: { authorization: "Bearer real-token" },
  signing_secret: "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ=",
};

describe("putting back redacted webhook secrets", () => {
  it("restores them for the same target", () => {
    const result = resolveWebhooks(
      [
        {
          id: stored.id,
          url: "https://hooks.example.com/in?secret=***",
          headers: { authorization: "***" },
          signing_secret: "whsec_***",
        },
      ],
      [stored],
    );
    expect(result).toEqual({ ok: true, webhooks: [stored] });
  });

  it("restores them on a new path of the same origin", () => {
    const result = resolveWebhooks(
      [{ id: stored.id, url: "https://hooks.example.com/v2", headers: { authorization: "***" } }],
      [stored],
    );
    expect(result.ok && result.webhooks[0]?.headers).toEqual({ authorization: "Bearer real-token" });
  });

  it("never sends them to another origin, even under the same webhook id", () => {
    const result = resolveWebhooks(
      [
        {
          id: stored.id,
          url: "https://attacker.example.net/collect",
          headers: { authorization: "***" },
          signing_secret: "whsec_***",
        },
      ],
      [stored],
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual([
      "webhooks[0].headers.authorization",
      "webhooks[0].signing_secret",
    ]);
    expect(result.issues[0]?.message).toMatch(/another origin/);
    expect(JSON.stringify(result)).not.toContain("real-token");
  });
});
