import { DECIMAL } from "@runhooks/contracts";
import { instantMicros } from "../instant.js";

/**
 * LangSmith's literal forms for the fields that are not text: durations for `latency`, timestamps for
 * times, numbers written as strings. Each returns undefined for a literal it does not accept.
 */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds: a number, or `"5s"`, `"500ms"`, `"2m"`, `"1h"`, `"10"` (seconds). */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const found = DURATION.exec(value.trim());
  if (found === null) return undefined;
  return Number(found[1]) * UNIT_SECONDS[found[2] ?? "s"]!;
}

/** A number, or a decimal number in a string (`"5000"`). */
export function numberValue(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && DECIMAL.test(value)) return Number(value);
  return undefined;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A timestamp runhooks can compare as an instant, as written (a date alone is midnight UTC, written
 * out in full so the tree says what it compares with).
 */
export function timestampText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value;
  return Number.isNaN(instantMicros(text)) ? undefined : text;
}
