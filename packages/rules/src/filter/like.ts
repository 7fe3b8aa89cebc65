import { charge, stringSteps, type Meter } from "./budget.js";
import { constant, isConstant, type Evaluate } from "./evaluate.js";

/**
 * `{"like": [value, pattern]}`: SQL LIKE, case-sensitive. In the pattern `%` stands for any run of
 * characters, `_` for exactly one (a UTF-16 code unit), and `\` makes the next character literal.
 * Only a string value matches; any other value (or a pattern that is not a string) does not.
 *
 * Matching splits the pattern at its `%`s into segments; the first must start the value, the last
 * must end it, and the ones between are found leftmost-first, in order — which is exact for LIKE and
 * takes one scan of the value per segment, never backtracking. Budget: one step for the operation,
 * and the value's string steps once per segment without `_` (a native `indexOf`) or once per
 * character of a segment with `_` (compared one by one), charged before the scan.
 */
export interface LikeSegment {
  readonly text: string;
  /** Per character, whether it is `_` (any one character); null when none is. */
  readonly any: readonly boolean[] | null;
}

export interface LikePattern {
  /** The pattern split at `%`; one segment when it has none. */
  readonly segments: readonly LikeSegment[];
  /** How many value scans one match may take (see `likeSteps`). */
  readonly weight: number;
}

export function parseLikePattern(pattern: string): LikePattern {
  const segments: LikeSegment[] = [];
  let text = "";
  let any: boolean[] = [];
  let wild = false;
  const close = (): void => {
    segments.push({ text, any: wild ? any : null });
    text = "";
    any = [];
    wild = false;
  };
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === "%") close();
    else if (c === "_") {
      text += "_";
      any.push(true);
      wild = true;
    } else {
      // A trailing backslash stands for itself.
      const literal = c === "\\" && i + 1 < pattern.length ? pattern[++i]! : c;
      text += literal;
      any.push(false);
    }
  }
  close();
  let weight = 0;
  for (const segment of segments) weight += segment.any === null ? 1 : Math.max(1, segment.text.length);
  return { segments, weight };
}

/** Steps a match of a value of `length` characters may take: the scans it may make. */
export function likeSteps(length: number, pattern: LikePattern): number {
  return stringSteps(length) * pattern.weight;
}

function matchesAt(value: string, segment: LikeSegment, at: number): boolean {
  const { text, any } = segment;
  if (at < 0 || at + text.length > value.length) return false;
  if (any === null) return value.startsWith(text, at);
  for (let i = 0; i < text.length; i += 1) if (!any[i] && value[at + i] !== text[i]) return false;
  return true;
}

/** The leftmost place at or after `from` where `segment` matches and ends by `end`, or -1. */
function find(value: string, segment: LikeSegment, from: number, end: number): number {
  const last = end - segment.text.length;
  if (segment.any === null) {
    const at = value.indexOf(segment.text, from);
    return at >= 0 && at <= last ? at : -1;
  }
  for (let at = from; at <= last; at += 1) if (matchesAt(value, segment, at)) return at;
  return -1;
}

export function likeMatches(value: string, pattern: LikePattern): boolean {
  const { segments } = pattern;
  const first = segments[0]!;
  if (segments.length === 1) return value.length === first.text.length && matchesAt(value, first, 0);
  const last = segments[segments.length - 1]!;
  if (value.length < first.text.length + last.text.length) return false;
  const end = value.length - last.text.length;
  if (!matchesAt(value, first, 0) || !matchesAt(value, last, end)) return false;
  let at = first.text.length;
  for (let i = 1; i < segments.length - 1; i += 1) {
    const segment = segments[i]!;
    if (segment.text.length === 0) continue;
    const found = find(value, segment, at, end);
    if (found < 0) return false;
    at = found + segment.text.length;
  }
  return true;
}

export function compileLike(operands: readonly Evaluate[], meter: Meter): Evaluate {
  const value = operands[0] ?? constant(undefined);
  const patternOf = operands[1] ?? constant(undefined);
  const literal: unknown = isConstant(patternOf) ? patternOf(undefined) : undefined;
  // A literal pattern is parsed once, here.
  const fixed = typeof literal === "string" ? parseLikePattern(literal) : undefined;
  return (data) => {
    const subject = value(data);
    const raw = fixed === undefined ? patternOf(data) : literal;
    charge(meter, 1);
    if (typeof subject !== "string" || typeof raw !== "string") return false;
    let pattern = fixed;
    if (pattern === undefined) {
      charge(meter, stringSteps(raw.length));
      pattern = parseLikePattern(raw);
    }
    charge(meter, likeSteps(subject.length, pattern));
    return likeMatches(subject, pattern);
  };
}
