import { isUnsendableHeader, redactUrl, webhookSecrets, type WebhookRetry } from "@runhooks/contracts";
import { schedulePolicyOf, type SchedulePolicy } from "./schedule-policy.js";
import { signingKey } from "./signing.js";

/** What the store holds for a webhook: its id, URL, custom headers and signing secret. */
export interface WebhookRecord {
  readonly id: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly signing_secret?: string | undefined;
  /** The secret before the last rotation, signing too until `until` (ISO-8601). */
  readonly previous_signing_secret?: { readonly secret: string; readonly until: string } | undefined;
  readonly retry?: WebhookRetry | undefined;
}

/**
 * A webhook made ready to send to, once per rule version: URL split for undici, credentials in the
 * URL's userinfo turned into basic auth, the signing key decoded, and every secret listed for scrubbing
 * free text.
 */
export interface Target {
  readonly webhookId: string;
  /** `scheme://host:port`: the unit of connection pooling and of concurrency limits. */
  readonly origin: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** The URL as it may be shown: secrets replaced by `***`. */
  readonly redactedUrl: string;
  /** Custom headers (names lower-cased), with basic auth from the URL's userinfo when it had one. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signingKey: Buffer | undefined;
  /** The key before the last rotation and the second (epoch) before which it signs too. */
  readonly previousSigningKey?: { readonly key: Buffer; readonly untilSeconds: number } | undefined;
  /** Everything secret this webhook holds, for `redactText`. */
  readonly secrets: readonly string[];
  /** The webhook's retry schedule; undefined: the service's default policy. */
  readonly schedule?: SchedulePolicy | undefined;
}

export function toTarget(webhook: WebhookRecord): Target {
  const url = new URL(webhook.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(webhook.headers ?? {})) {
    const lower = name.toLowerCase();
    // Ours and connection-level names are refused at write; a stored one is dropped, never sent.
    if (!isUnsendableHeader(lower)) headers[lower] = value;
  }
  if ((url.username !== "" || url.password !== "") && headers["authorization"] === undefined) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers["authorization"] = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  }
  const previous = webhook.previous_signing_secret;
  const secrets = webhookSecrets(webhook);
  if (previous !== undefined) secrets.push(previous.secret);
  return {
    webhookId: webhook.id,
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    redactedUrl: redactUrl(webhook.url),
    headers,
    signingKey: webhook.signing_secret === undefined ? undefined : signingKey(webhook.signing_secret),
    previousSigningKey:
      previous === undefined
        ? undefined
        : { key: signingKey(previous.secret), untilSeconds: Math.floor(Date.parse(previous.until) / 1000) },
    // The basic-auth header value is as secret as the userinfo it came from.
    secrets: headers["authorization"] === undefined ? secrets : [...secrets, headers["authorization"]],
    schedule: webhook.retry === undefined ? undefined : schedulePolicyOf(webhook.retry),
  };
}
