import type { WebhookRetry } from "./rule.js";
/**
 * Redaction of webhook secrets, for everything that leaves Postgres: API responses, logs, traces and
 * delivery attempt records. Pure: strings in, strings out.
 *
 * What is a secret: query (and fragment) values whose name looks like a credential (`secret`, `token`,
 * `key`, `api_key`, `signature`, `sig`, `jwt`, `hash`, `password`, …), path segments that are tokens
 * (known providers' token positions, and long random-looking segments: redact-path.ts), the password
 * of URL userinfo (and a bare username, which is how tokens are often passed), every custom header
 * value, and signing secrets.
 */
import { secretSegments } from "./redact-path.js";

/** What a redacted value reads as. On input (API, CLI), this value means "keep the stored one". */
export const REDACTED = "***";
/** How a signing secret is shown: its presence, never its bytes. */
export const REDACTED_SIGNING_SECRET = "whsec_***";

/**
 * Query parameter names whose values are redacted, compared case-insensitively after dropping `-`,
 * `_` and `.` (so `api-key`, `API_KEY` and `apiKey` all match `apikey`).
 */
const SECRET_NAME_PARTS = ["secret", "token", "key", "signature", "password", "passwd", "pwd", "auth", "credential"];
const SECRET_NAMES = new Set(["sig", "pass", "session", "sessionid", "code", "jwt", "hash", "hmac", "sas"]);

/** Whether a query parameter of this name carries a credential. */
export function isSecretParamName(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_.]/g, "");
  if (SECRET_NAMES.has(n)) return true;
  return SECRET_NAME_PARTS.some((part) => n.includes(part));
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

/** `a=1&secret=x` → `a=1&secret=***`, the values removed added to `removed`; every other byte is kept. */
function redactParams(params: string, removed: string[]): string {
  return params
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      const name = pair.slice(0, eq);
      if (!isSecretParamName(decodeName(name))) return pair;
      removed.push(pair.slice(eq + 1));
      return `${name}=${REDACTED}`;
    })
    .join("&");
}

/** `/services/T1/B2/tok` → `/services/T1/B2/***` on hooks.slack.com; the segments removed added to `removed`. */
function redactPath(host: string, path: string, removed: string[]): string {
  const segments = path.split("/").slice(1);
  const secret = secretSegments(host.toLowerCase(), segments);
  if (secret.size === 0) return path;
  return `/${segments
    .map((s, i) => {
      if (!secret.has(i)) return s;
      removed.push(s);
      return REDACTED;
    })
    .join("/")}`;
}

/** A URL as it may be shown, and the secret values that were taken out of it. */
export interface RedactedUrl {
  readonly shown: string;
  readonly removed: readonly string[];
}

/** `redactUrl`, with the values it removed (for scrubbing free text that quotes them). */
export function redactUrlParts(url: string): RedactedUrl {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s.exec(url);
  if (!scheme) return { shown: "(unparseable URL)", removed: [] };
  const [, prefix = "", authority = "", rest = ""] = scheme;
  const removed: string[] = [];
  let host = authority;
  let hostname = authority;
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    // user:password → user:***; a lone user part is often a token itself.
    const shown = colon >= 0 ? `${userinfo.slice(0, colon)}:${REDACTED}` : REDACTED;
    removed.push(colon >= 0 ? userinfo.slice(colon + 1) : userinfo);
    hostname = authority.slice(at + 1);
    host = `${shown}@${hostname}`;
  }
  hostname = hostname.replace(/:\d*$/, "");
  const hashAt = rest.indexOf("#");
  const beforeHash = hashAt >= 0 ? rest.slice(0, hashAt) : rest;
  const fragment = hashAt >= 0 ? rest.slice(hashAt + 1) : undefined;
  const queryAt = beforeHash.indexOf("?");
  const path = redactPath(hostname, queryAt >= 0 ? beforeHash.slice(0, queryAt) : beforeHash, removed);
  const query = queryAt >= 0 ? `?${redactParams(beforeHash.slice(queryAt + 1), removed)}` : "";
  const hash = fragment === undefined ? "" : `#${redactParams(fragment, removed)}`;
  return { shown: `${prefix}${host}${path}${query}${hash}`, removed: removed.filter((r) => r !== REDACTED) };
}

/**
 * `https://user:pw@example.com/hook?secret=abc&team=ml` → `https://user:***@example.com/hook?secret=***&team=ml`;
 * `https://hooks.slack.com/services/T0/B0/XXXX` → `https://hooks.slack.com/services/T0/B0/***`.
 * A string that is not an absolute URL is not shown at all: it might be anything.
 */
export function redactUrl(url: string): string {
  return redactUrlParts(url).shown;
}

/** Every header value becomes `***`; names stay, so users can see which headers are set. */
export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED]));
}

export interface WebhookLike {
  readonly id?: string | undefined;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly signing_secret?: string | undefined;
  readonly retry?: WebhookRetry | undefined;
}

export interface RedactedWebhook {
  id?: string;
  url: string;
  headers: Record<string, string>;
  signing_secret?: typeof REDACTED_SIGNING_SECRET;
  retry?: WebhookRetry;
}

export function redactWebhook(webhook: WebhookLike): RedactedWebhook {
  return {
    ...(webhook.id === undefined ? {} : { id: webhook.id }),
    url: redactUrl(webhook.url),
    headers: redactHeaders(webhook.headers ?? {}),
    ...(webhook.signing_secret === undefined ? {} : { signing_secret: REDACTED_SIGNING_SECRET }),
    // Not a secret: the retry policy shows as it was written.
    ...(webhook.retry === undefined ? {} : { retry: webhook.retry }),
  };
}

/** A rule (or any object with `webhooks`) with each webhook redacted; everything else as it was. */
export function redactRule<T extends { readonly webhooks?: readonly WebhookLike[] | undefined }>(
  rule: T,
): Omit<T, "webhooks"> & { webhooks: RedactedWebhook[] } {
  return { ...rule, webhooks: (rule.webhooks ?? []).map(redactWebhook) };
}

/**
 * Every secret a webhook holds, in the forms it may appear in text (an error message that quotes the
 * URL, a response body that echoes a header): for scrubbing free text with `redactText`.
 */
export function webhookSecrets(webhook: WebhookLike): string[] {
  const secrets: string[] = [...redactUrlParts(webhook.url).removed];
  for (const value of Object.values(webhook.headers ?? {})) secrets.push(value);
  if (webhook.signing_secret !== undefined) secrets.push(webhook.signing_secret);
  const decoded = secrets.flatMap((s) => {
    try {
      const d = decodeURIComponent(s);
      return d === s ? [s] : [s, d];
    } catch {
      return [s];
    }
  });
  // Very short values would redact half of any text; they are not worth guarding in free text.
  return [...new Set(decoded)].filter((s) => s.length >= 4);
}

/** Replaces every occurrence of each secret in `text` with `***`. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== "") out = out.split(secret).join(REDACTED);
  }
  return out;
}
