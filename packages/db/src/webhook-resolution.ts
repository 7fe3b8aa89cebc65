import { randomUUID } from "node:crypto";
import { REDACTED, REDACTED_SIGNING_SECRET, redactUrl, type FieldIssue, type Webhook } from "@runhooks/contracts";

/**
 * The signing secret a webhook had before its last rotation, signing too until `until` (ISO-8601) so
 * receivers can switch over (secret-rotation.ts). Set by the rotation only, never by a client.
 */
export interface PreviousSigningSecret {
  readonly secret: string;
  readonly until: string;
}

/** A webhook as stored: it always has its id, and a previous signing secret while a rotation overlaps. */
export type StoredWebhook = Webhook & {
  readonly id: string;
  readonly previous_signing_secret?: PreviousSigningSecret | undefined;
};

/** A webhook to store: a rotation hands its previous secret over; a client's never has one. */
type IncomingWebhook = Webhook & { readonly previous_signing_secret?: PreviousSigningSecret | undefined };

export type WebhookResolution =
  { readonly ok: true; readonly webhooks: StoredWebhook[] } | { readonly ok: false; readonly issues: FieldIssue[] };

/**
 * Gives each webhook of a new rule version its id, and puts back the secrets a client sent redacted.
 *
 * Ids are stable while a webhook is the same target: the id given is kept; otherwise the previous
 * version's webhook with the same URL (or whose redacted URL is the one sent) lends its id; otherwise
 * the webhook is new. Delivery dedupes on (window id, webhook id), so a stable id keeps a replayed
 * window from reaching the same target twice.
 *
 * A rule read from the API shows secrets as `***` (`secret=***`, header values, `whsec_***`). Sent back
 * unchanged, they mean "keep the stored value" — so get, edit, put never overwrites a secret with
 * asterisks. A redacted value with nothing stored to restore it from is refused.
 *
 * A rotation's previous signing secret stays while the signing secret stays (any edit that keeps the
 * secret keeps the overlap); a new signing secret set by the client ends it.
 */
export function resolveWebhooks(
  incoming: readonly IncomingWebhook[],
  previous: readonly StoredWebhook[],
  newId: () => string = randomUUID,
): WebhookResolution {
  const issues: FieldIssue[] = [];
  const unclaimed = new Set(previous);
  const claim = (match: StoredWebhook | undefined) => {
    if (match) unclaimed.delete(match);
    return match;
  };
  const findUnclaimed = (test: (p: StoredWebhook) => boolean) => [...unclaimed].find(test);

  const out: StoredWebhook[] = [];
  const idAt = new Map<string, number>();
  incoming.forEach((webhook, index) => {
    const path = `webhooks[${index}]`;
    const match = claim(
      (webhook.id === undefined ? undefined : previous.find((p) => p.id === webhook.id && unclaimed.has(p))) ??
        findUnclaimed((p) => p.url === webhook.url) ??
        (webhook.url.includes(REDACTED) ? findUnclaimed((p) => redactUrl(p.url) === webhook.url) : undefined),
    );

    let url = webhook.url;
    if (url.includes(REDACTED)) {
      if (match && redactUrl(match.url) === url) url = match.url;
      else issues.push({ path: `${path}.url`, message: "contains a redacted value (***); send the real secret" });
    }

    // Stored header values and signing secrets go back only to the origin they were given for: a
    // webhook whose id is kept but whose URL now points elsewhere must not carry them there.
    const restorable = match !== undefined && originOf(match.url) === originOf(url) ? match : undefined;
    const elsewhere = match !== undefined && restorable === undefined;
    const missing = (what: string) =>
      elsewhere
        ? `is redacted (${what}) but the URL now points to another origin than the stored one; send the real value`
        : `is redacted (${what}) and no stored value exists; send the real value`;

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(webhook.headers)) {
      if (value !== REDACTED) {
        headers[name] = value;
        continue;
      }
      const stored = restorable?.headers[name];
      if (stored === undefined) {
        issues.push({ path: `${path}.headers.${name}`, message: missing("***") });
      } else {
        headers[name] = stored;
      }
    }

    let signingSecret = webhook.signing_secret;
    if (signingSecret === REDACTED_SIGNING_SECRET) {
      signingSecret = restorable?.signing_secret;
      if (signingSecret === undefined) {
        issues.push({ path: `${path}.signing_secret`, message: missing("whsec_***") });
      }
    }

    const id = webhook.id ?? match?.id ?? newId();
    const earlier = idAt.get(id);
    if (earlier !== undefined) {
      issues.push({ path: `${path}.id`, message: `is already used by webhooks[${earlier}]` });
    }
    idAt.set(id, index);

    const previousSecret =
      webhook.previous_signing_secret ??
      (signingSecret !== undefined && signingSecret === restorable?.signing_secret
        ? restorable.previous_signing_secret
        : undefined);
    out.push({
      id,
      url,
      headers,
      ...(signingSecret === undefined ? {} : { signing_secret: signingSecret }),
      ...(previousSecret === undefined ? {} : { previous_signing_secret: previousSecret }),
      ...(webhook.retry === undefined ? {} : { retry: webhook.retry }),
    });
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, webhooks: out };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
