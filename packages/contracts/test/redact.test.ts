import { describe, expect, it } from "vitest";
import {
  REDACTED,
  isSecretParamName,
  redactHeaders,
  redactRule,
  redactText,
  redactUrl,
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
  ])("%s → %s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it("keeps URLs without secrets byte for byte", () => {
    const url = "https://example.com:8443/a/b%20c?team=ml&flag&q=a+b#frag";
    expect(redactUrl(url)).toBe(url);
  });

  it("refuses to echo something that is not a URL", () => {
    expect(redactUrl("secret-value-without-scheme")).toBe("(unparseable URL)");
  });

  it("is idempotent", () => {
    const once = redactUrl("https://u:p@h/x?secret=s&a=1");
    expect(redactUrl(once)).toBe(once);
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
