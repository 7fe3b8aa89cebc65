/**
 * A point in time as whole seconds since the epoch plus nanoseconds, so that the difference of two
 * LangSmith timestamps keeps their microseconds exactly (a double of epoch seconds would not).
 */
export interface Instant {
  readonly seconds: number;
  readonly nanos: number;
}

// The forms `Timestamp` in @runhooks/contracts accepts: an offset (`Z`, `+00:00`) or none, which
// LangSmith uses to mean UTC; seconds may be omitted only without an offset; any fraction length.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Parses an ISO-8601 timestamp; no offset means UTC (not local time, as `Date.parse` would have it). */
export function parseInstant(text: string): Instant | undefined {
  const match = TIMESTAMP.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const millis = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0));
  let offsetSeconds = 0;
  if (offset !== undefined && offset !== "Z") {
    const sign = offset.startsWith("-") ? -1 : 1;
    offsetSeconds = sign * (Number(offset.slice(1, 3)) * 3600 + Number(offset.slice(4, 6)) * 60);
  }
  return {
    seconds: millis / 1000 - offsetSeconds,
    nanos: Number((fraction ?? "").slice(0, 9).padEnd(9, "0")),
  };
}

/** `to - from` in seconds. */
export function secondsBetween(from: Instant, to: Instant): number {
  return to.seconds - from.seconds + (to.nanos - from.nanos) / 1e9;
}
