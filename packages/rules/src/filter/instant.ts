/**
 * A point in time as whole seconds since the epoch plus nanoseconds, so that the difference of two
 * LangSmith timestamps keeps their microseconds exactly (a double of epoch seconds would not).
 */
export interface Instant {
  readonly seconds: number;
  readonly nanos: number;
}

const COLON = 0x3a;
const DOT = 0x2e;

/**
 * Parses the timestamps `Timestamp` in @runhooks/contracts accepts — `YYYY-MM-DDTHH:MM[:SS[.fraction]]`
 * then `Z`, `±HH:MM` or nothing, which LangSmith uses to mean UTC (not local time, as `Date.parse`
 * would have it) — keeping up to nine fraction digits. Anything else is undefined. Hand-written
 * rather than a regular expression: it runs twice per run on the hot path.
 */
export function parseInstant(text: string): Instant | undefined {
  if (text.length < 16 || text[4] !== "-" || text[7] !== "-" || text[10] !== "T" || text.charCodeAt(13) !== COLON)
    return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  let second = 0;
  let nanos = 0;
  let i = 16;
  if (text.charCodeAt(i) === COLON) {
    second = digits(text, 17, 19);
    i = 19;
    if (text.charCodeAt(i) === DOT) {
      i += 1;
      const start = i;
      for (let scale = 100_000_000; i < text.length && isDigit(text.charCodeAt(i)); i += 1, scale /= 10) {
        if (scale >= 1) nanos += (text.charCodeAt(i) - 0x30) * scale;
      }
      if (i === start) return undefined;
    }
  }
  let offsetSeconds = 0;
  if (text[i] === "Z") i += 1;
  else if ((text[i] === "+" || text[i] === "-") && text.charCodeAt(i + 3) === COLON) {
    offsetSeconds = (text[i] === "-" ? -1 : 1) * (digits(text, i + 1, i + 3) * 3600 + digits(text, i + 4, i + 6) * 60);
    i += 6;
  }
  // NaN (a non-digit) fails every comparison, so it lands here too.
  const inRange =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= 31 &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    !Number.isNaN(offsetSeconds);
  if (i !== text.length || !inRange) return undefined;
  return { seconds: Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offsetSeconds, nanos };
}

/** `to - from` in seconds. */
export function secondsBetween(from: Instant, to: Instant): number {
  return to.seconds - from.seconds + (to.nanos - from.nanos) / 1e9;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** The decimal number in `text[from, to)`, or NaN if any character there is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) return Number.NaN;
    value = value * 10 + (code - 0x30);
  }
  return value;
}

/**
 * A timestamp as microseconds since the epoch (an exact integer for any date LangSmith writes), or NaN
 * when the value is not a timestamp `parseInstant` accepts — NaN fails every comparison, as SQL's null
 * does. The value of the `instant` operator.
 */
export function instantMicros(value: unknown): number {
  if (typeof value !== "string") return Number.NaN;
  const instant = parseInstant(value);
  return instant === undefined ? Number.NaN : instant.seconds * 1_000_000 + Math.floor(instant.nanos / 1000);
}
