import { describe, expect, it } from "vitest";
import {
  REDACTED,
  isSecretParamName,
  redactHeaders,
  redactRule,
  redactText,
  redactUrl,
  redactUrlParts,
  redactWebhook,
  webhookSecrets,
} from "@runhooks/contracts";

describe("redactUrl", () => {
  it.each([
    ["https://example.com/hook?secret=abc123", "https://example.com/hook?secret=***"],
    ["https://example.com/hook?team=ml&token=t0k&x=1", "https://example.com/hook?team=ml&token=***&x=1"],
    [
      "http://h/p?key=1&api_key=2&apikey=3&API-KEY=4&apiKey=5",
      "http://h/p?key=***&api_key=***&apikey=***&API-KEY=***&apiKey=***",
    ],
    [
      "http://h/p?signature=s&sig=s2&password=p&access_token=a",
      "http://h/p?signature=***&sig=***&password=***&access_token=***",
    ],
    ["http://h/p?client_secret=c&x-auth=a", "http://h/p?client_secret=***&x-auth=***"],
    ["https://user:hunter22@example.com/p", "https://user:***@example.com/p"],
    ["https://ghp_tokenvalue@example.com/p", "https://***@example.com/p"],
    ["https://example.com/cb#access_token=abc&state=1", "https://example.com/cb#access_token=***&state=1"],
    ["https://example.com/p?se%63ret=abc", "https://example.com/p?se%63ret=***"],
    [
      "https://example.com/p?jwt=eyJ.a.b&hash=h1&hmac=m&sas=s&x=1",
      "https://example.com/p?jwt=***&hash=***&hmac=***&sas=***&x=1",
    ],
    ["https://example.com/cb?code=c0de&state=ok", "https://example.com/cb?code=***&state=ok"],
    [
      "https://h.example/p?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc&X-Amz-Date=20260101",
      "https://h.example/p?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Date=20260101",
    ],
    // Known providers' token paths.
    [
      "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
      "https://hooks.slack.com/services/T00000000/B00000000/***",
    ],
    ["https://hooks.slack.com/services/T0/B0/short", "https://hooks.slack.com/services/T0/B0/***"],
    ["https://hooks.slack.com/triggers/T0123/4567/abcdefabcdef0123", "https://hooks.slack.com/triggers/T0123/4567/***"],
    [
      "https://discord.com/api/webhooks/1234567890123456789/abcDEF-ghiJKL_mno",
      "https://discord.com/api/webhooks/1234567890123456789/***",
    ],
    [
      "https://discordapp.com/api/v10/webhooks/123/tok/slack?wait=true",
      "https://discordapp.com/api/v10/webhooks/123/***/slack?wait=true",
    ],
    [
      "https://acme.webhook.office.com/webhookb2/g@t/IncomingWebhook/0a1b2c/owner",
      "https://acme.webhook.office.com/webhookb2/g@t/IncomingWebhook/***/***",
    ],
    [
      "https://api.telegram.org/bot123456:AAH-secret/sendMessage?chat_id=42",
      "https://api.telegram.org/***/sendMessage?chat_id=42",
    ],
    ["https://hooks.zapier.com/hooks/catch/123/abcdef/", "https://hooks.zapier.com/hooks/catch/123/***/"],
    ["https://maker.ifttt.com/trigger/alert/with/key/dK3y", "https://maker.ifttt.com/trigger/alert/with/key/***"],
    ["https://chat.example.com/hooks/xi3o8jdbmbgabeyz6ewb7wqpsh", "https://chat.example.com/hooks/***"],
    // Token-like segments anywhere: long, mixed, random.
    ["https://example.com/in/aB3dE6gH9jK2mN5pQ8sT", "https://example.com/in/***"],
    ["https://example.com/in/QwErTyUiOpAsDfGhJkLz", "https://example.com/in/***"],
    ["https://webhook.site/9f1c2d3e-4b5a-6789-abcd-ef0123456789", "https://webhook.site/***"],
    ["https://example.com:8443/in/sk_live_51Hx7aK2eZvKYlo2C", "https://example.com:8443/in/***"],
  ])("%s → %s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it("keeps URLs without secrets byte for byte", () => {
    const url = "https://example.com:8443/a/b%20c?team=ml&flag&q=a+b#frag";
    expect(redactUrl(url)).toBe(url);
  });

  it.each([
    "https://example.com/api/v2/webhooks/runhooks",
    "https://example.com/customer-facing-prod-alerts/2026-12-06",
    "https://example.com/hooks/events-2026/incoming",
    "https://discord.com/api/webhooks",
    "https://hooks.slack.com/services",
    "https://example.com/rules/LLMErrorsInProduction",
    "https://example.com/in/CustomerFacingAlertsForTeamML",
  ])("keeps a path without tokens: %s", (url) => {
    expect(redactUrl(url)).toBe(url);
  });

  it("refuses to echo something that is not a URL", () => {
    expect(redactUrl("secret-value-without-scheme")).toBe("(unparseable URL)");
  });

  it.each([
    "https://u:p@h/x?secret=s&a=1",
    "https://hooks.slack.com/services/T0/B0/XXXX",
    "https://discord.com/api/webhooks/1/tok",
    "https://example.com/key/k3y/more",
  ])("is idempotent: %s", (url) => {
    const once = redactUrl(url);
    expect(redactUrl(once)).toBe(once);
  });

  it("lists what it removed, so free text quoting the URL can be scrubbed", () => {
    const parts = redactUrlParts("https://hooks.slack.com/services/T0/B0/XXXXtoken?sig=abcd");
    expect(parts.removed).toEqual(["XXXXtoken", "abcd"]);
    expect(webhookSecrets({ url: "https://discord.com/api/webhooks/1/disc0rdT0ken" })).toEqual(["disc0rdT0ken"]);
  });

  it("recognises credential-like parameter names only", () => {
    expect(isSecretParamName("Secret")).toBe(true);
    expect(isSecretParamName("x_api_key")).toBe(true);
    expect(isSecretParamName("team")).toBe(false);
    expect(isSecretParamName("page")).toBe(false);
  });
});

describe("webhooks and rules", () => {
  const webhook = {
    id: "0b5f8d56-3b8e-4c41-9d47-0c6c1a3d7f10",
    url: "https://example.com/hook?secret=s3cr3t-value&team=ml",
    headers: { authorization: "Bearer very-secret", "x-team": "ml" },
    signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  };

  it("redacts every secret a webhook holds and keeps its shape", () => {
    const out = redactWebhook(webhook);
    expect(out).toEqual({
      id: webhook.id,
      url: "https://example.com/hook?secret=***&team=ml",
      headers: { authorization: REDACTED, "x-team": REDACTED },
      signing_secret: "whsec_***",
    });
    const text = JSON.stringify(out);
    for (const secret of ["s3cr3t-value", "very-secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("omits a signing secret that is not there", () => {
    expect(redactWebhook({ url: "https://example.com/" })).toEqual({ url: "https://example.com/", headers: {} });
  });

  it("redacts the webhooks of a rule and leaves the rest alone", () => {
    const rule = { id: "r", display_name: "n", webhooks: [webhook] };
    const out = redactRule(rule);
    expect(out.display_name).toBe("n");
    expect(out.webhooks[0]?.url).toBe("https://example.com/hook?secret=***&team=ml");
    expect(redactHeaders({ a: "1" })).toEqual({ a: REDACTED });
  });

  it("scrubs a webhook's secrets from free text such as an error message", () => {
    const secrets = webhookSecrets({ ...webhook, url: "https://bob:pa55word@example.com/h?token=abc%2Fdef" });
    const message =
      "connect ECONNREFUSED https://bob:pa55word@example.com/h?token=abc%2Fdef (abc/def); Bearer very-secret";
    const scrubbed = redactText(message, secrets);
    expect(scrubbed).not.toContain("pa55word");
    expect(scrubbed).not.toContain("abc%2Fdef");
    expect(scrubbed).not.toContain("abc/def");
    expect(scrubbed).not.toContain("very-secret");
    expect(scrubbed).toContain("ECONNREFUSED");
  });
});
