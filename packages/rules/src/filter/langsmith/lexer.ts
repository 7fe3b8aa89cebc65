import { Refusal } from "./position.js";

export type TokenKind = "ident" | "string" | "number" | "(" | ")" | "[" | "]" | "," | "end";

export interface Token {
  readonly kind: TokenKind;
  /** The token's text as written (a string's quotes included). */
  readonly text: string;
  /** A string's or number's value. */
  readonly value?: string | number;
  readonly start: number;
  readonly end: number;
}

const PUNCTUATION = new Set(["(", ")", "[", "]", ","]);
const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  '"': '"',
  "'": "'",
  "/": "/",
};
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/** Splits a LangSmith filter into tokens; the last one is `end`. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i += 1;
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: c as TokenKind, text: c, start: i, end: i + 1 });
      i += 1;
    } else if (c === '"' || c === "'") {
      const token = quoted(text, i);
      tokens.push(token);
      i = token.end;
    } else {
      const token = match(NUMBER, "number", text, i) ?? match(IDENT, "ident", text, i);
      if (token === undefined) throw new Refusal(i, `unexpected character ${JSON.stringify(c)}`);
      tokens.push(token);
      i = token.end;
    }
  }
  tokens.push({ kind: "end", text: "", start: text.length, end: text.length });
  return tokens;
}

function match(pattern: RegExp, kind: "number" | "ident", text: string, at: number): Token | undefined {
  pattern.lastIndex = at;
  const found = pattern.exec(text);
  if (found === null) return undefined;
  const end = at + found[0].length;
  // `12abc` is neither a number nor a name.
  if (kind === "number" && end < text.length && /[A-Za-z_]/.test(text[end]!)) return undefined;
  return {
    kind,
    text: found[0],
    ...(kind === "number" ? { value: Number(found[0]) } : {}),
    start: at,
    end,
  };
}

/**
 * A string in single or double quotes. `\n`, `\t`, `\r`, `\\`, `\/`, `\"`, `\'` and `\uXXXX` are
 * escapes; a backslash before anything else stands for itself (so a LIKE pattern's `\%` needs no
 * doubling).
 */
function quoted(text: string, start: number): Token {
  const quote = text[start]!;
  let value = "";
  for (let i = start + 1; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === quote) return { kind: "string", text: text.slice(start, i + 1), value, start, end: i + 1 };
    if (c !== "\\" || i + 1 >= text.length) {
      value += c;
      continue;
    }
    const next = text[i + 1]!;
    const hex = next === "u" ? text.slice(i + 2, i + 6) : "";
    if (next === "u" && /^[0-9a-fA-F]{4}$/.test(hex)) {
      value += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else if (Object.hasOwn(ESCAPES, next)) {
      value += ESCAPES[next];
      i += 1;
    } else {
      value += c;
    }
  }
  throw new Refusal(start, `this string has no closing ${quote}`);
}
