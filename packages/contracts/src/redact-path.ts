/**
 * Which segments of a URL's path are credentials. Pure.
 *
 * Many webhook providers put the token in the path rather than in a query parameter: Slack
 * (`hooks.slack.com/services/T…/B…/<token>`), Discord (`discord.com/api/webhooks/<id>/<token>`),
 * Microsoft Teams, Telegram (`/bot<token>/…`), IFTTT (`/with/key/<key>`), Zapier, Mattermost. Those are
 * recognised by host and position; any other segment is taken for a token when it looks like one: long,
 * made of more than one character class and of high entropy (a random id is indistinguishable from a
 * random secret, and showing a harmless id as `***` costs less than showing a secret).
 */

/** The length from which a segment may be taken for a token on its looks alone. */
const MIN_TOKEN_LENGTH = 16;
/** Shannon entropy (bits per character) above which a long segment is taken for random. */
const MIN_TOKEN_ENTROPY = 3;

/** A segment that follows one of these names is a credential (`/key/<key>`, `/token/<token>`). */
const NAMES_BEFORE_SECRET = new Set(["key", "token", "secret", "apikey", "api_key", "access_token", "password"]);

function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Whether a path segment looks like a generated token: long, mixed characters, high entropy. */
export function isTokenLikeSegment(segment: string): boolean {
  if (segment.length < MIN_TOKEN_LENGTH) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(segment)).length;
  if (classes < 2) return false;
  if (!/[0-9]/.test(segment)) {
    // Letters of both cases only: a camel-cased name (`LLMErrorsInProduction`) has a few capitals,
    // a random token about as many as small letters.
    const upper = segment.replace(/[^A-Z]/g, "").length;
    const letters = segment.replace(/[^A-Za-z]/g, "").length;
    if (upper < letters * 0.3 || upper > letters * 0.7) return false;
  }
  return entropy(segment) >= MIN_TOKEN_ENTROPY;
}

type ProviderRule = (host: string, segments: readonly string[]) => readonly number[];

const hostIs = (host: string, ...names: string[]) => names.some((n) => host === n || host.endsWith(`.${n}`));

/** The indexes of `segments` (the path split on `/`, the leading empty one dropped) a known provider keeps secret. */
const PROVIDERS: readonly ProviderRule[] = [
  // hooks.slack.com/services/T…/B…/<token>, /workflows/T…/A…/<id>/<token>, /triggers/T…/<id>/<token>
  (host, s) => (host === "hooks.slack.com" && s.length >= 3 ? [s.length - 1] : []),
  // discord.com/api[/v10]/webhooks/<id>/<token>[/slack|/github]
  (host, s) => {
    if (!hostIs(host, "discord.com", "discordapp.com")) return [];
    const at = s.indexOf("webhooks");
    return at >= 0 && at + 2 < s.length ? [at + 2] : [];
  },
  // <tenant>.webhook.office.com/webhookb2/<group>@<tenant>/IncomingWebhook/<token>/<owner>
  (host, s) => {
    if (!hostIs(host, "webhook.office.com", "outlook.office.com")) return [];
    const at = s.indexOf("IncomingWebhook");
    return at >= 0 ? s.map((_, i) => i).filter((i) => i > at) : [];
  },
  // api.telegram.org/bot<id>:<token>/sendMessage
  (host, s) => (host === "api.telegram.org" ? s.flatMap((seg, i) => (/^bot\d+:/.test(seg) ? [i] : [])) : []),
  // hooks.zapier.com/hooks/catch/<account>/<token>/
  (host, s) => (host === "hooks.zapier.com" && s[1] === "catch" && s.length >= 4 ? [3] : []),
  // <server>/hooks/<id>: Mattermost and Rocket.Chat incoming webhooks are a bare id that is the secret
  (_, s) => (s[0] === "hooks" && s.length >= 2 && /^[a-z0-9]{26}$/.test(s[1] ?? "") ? [1] : []),
];

/** The indexes of a path's segments that are secret, for a URL whose host is `host` (lower case). */
export function secretSegments(host: string, segments: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const rule of PROVIDERS) for (const i of rule(host, segments)) out.add(i);
  segments.forEach((segment, i) => {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // Kept as written: a malformed escape is looked at as it is.
    }
    if (isTokenLikeSegment(decoded)) out.add(i);
    const name = decoded.toLowerCase().replace(/-/g, "_");
    if (NAMES_BEFORE_SECRET.has(name) && i + 1 < segments.length) out.add(i + 1);
  });
  for (const i of out) if (segments[i] === "" || segments[i] === "***") out.delete(i);
  return out;
}
