import { isSealed, openSecret, sealSecret, type SecretKeyring } from "./secret-cipher.js";
import { SecretsError } from "./secret-errors.js";
import type { StoredWebhook } from "./webhook-resolution.js";

/**
 * What of a webhook is sealed at rest: its URL (whole: query tokens, path tokens and userinfo alike,
 * whatever a redaction rule would call a secret), every header value, the signing secret and the one
 * a rotation keeps signing until its `until`. Its id, header names and that `until` stay readable.
 */

/** Seals a webhook whose values are plaintext. */
export function sealWebhook(keyring: SecretKeyring, webhook: StoredWebhook): StoredWebhook {
  // Always sealed, even a value that looks sealed: it is what the user wrote.
  const seal = (value: string) => sealSecret(keyring, value);
  return {
    ...webhook,
    url: seal(webhook.url),
    headers: Object.fromEntries(Object.entries(webhook.headers).map(([name, value]) => [name, seal(value)])),
    ...(webhook.signing_secret === undefined ? {} : { signing_secret: seal(webhook.signing_secret) }),
    ...(webhook.previous_signing_secret === undefined
      ? {}
      : {
          previous_signing_secret: {
            ...webhook.previous_signing_secret,
            secret: seal(webhook.previous_signing_secret.secret),
          },
        }),
  };
}

/**
 * Opens a stored webhook. A value that is not sealed is returned as it is: rows written before
 * sealing existed are sealed by migration 014 and the rotation, and nothing else writes plaintext.
 */
export function openWebhook(keyring: SecretKeyring, webhook: StoredWebhook, where: string): StoredWebhook {
  const open = (value: string, field: string) => {
    if (!isSealed(value)) return value;
    const result = openSecret(keyring, value);
    if (!result.ok)
      throw new SecretsError("secret_unreadable", `${where} webhook ${webhook.id} ${field}: ${result.message}`);
    return result.value;
  };
  return {
    ...webhook,
    url: open(webhook.url, "url"),
    headers: Object.fromEntries(
      Object.entries(webhook.headers).map(([name, value]) => [name, open(value, `header ${name}`)]),
    ),
    ...(webhook.signing_secret === undefined ? {} : { signing_secret: open(webhook.signing_secret, "signing_secret") }),
    ...(webhook.previous_signing_secret === undefined
      ? {}
      : {
          previous_signing_secret: {
            ...webhook.previous_signing_secret,
            secret: open(webhook.previous_signing_secret.secret, "previous_signing_secret"),
          },
        }),
  };
}

/** What a purge leaves of a secret (secret-purge.ts): nothing to seal. */
const PURGED = "***";

/** Whether every secret of the webhook is sealed under `keyId` (or purged). */
export function isSealedUnder(webhook: StoredWebhook, keyId: string): boolean {
  const prefix = `enc:v1:${keyId}:`;
  return [
    webhook.url,
    ...Object.values(webhook.headers),
    ...(webhook.signing_secret === undefined ? [] : [webhook.signing_secret]),
    ...(webhook.previous_signing_secret === undefined ? [] : [webhook.previous_signing_secret.secret]),
  ].every((v) => v === PURGED || v.startsWith(prefix));
}

/** A rule version with its webhooks sealed (the form rules and rule_events hold). */
export function sealRule<R extends { readonly webhooks: readonly StoredWebhook[] }>(
  keyring: SecretKeyring,
  rule: R,
): R {
  return { ...rule, webhooks: rule.webhooks.map((w) => sealWebhook(keyring, w)) };
}

/** A stored rule version with its webhooks opened. */
export function openRule<R extends { readonly id: string; readonly webhooks: readonly StoredWebhook[] }>(
  keyring: SecretKeyring,
  rule: R,
): R {
  return { ...rule, webhooks: rule.webhooks.map((w) => openWebhook(keyring, w, `rule ${rule.id}`)) };
}
