import { tokenize, type Token } from "./lexer.js";
import { Refusal } from "./position.js";

/** The syntax tree of a LangSmith filter; every node knows the characters it was written as. */
export type Node = CallNode | NameNode | LiteralNode | ListNode;

interface Spanned {
  /** Offset of the node's first character. */
  readonly start: number;
  /** Offset just past its last character. */
  readonly end: number;
}

/** `eq(run_type, "llm")`. */
export interface CallNode extends Spanned {
  readonly kind: "call";
  readonly name: string;
  readonly args: readonly Node[];
}

/** A bare name: a field (`run_type`), or `metadata`, `inputs`, `outputs`. */
export interface NameNode extends Spanned {
  readonly kind: "name";
  readonly name: string;
}

export interface LiteralNode extends Spanned {
  readonly kind: "literal";
  readonly value: string | number | boolean | null;
}

/** `["a", "b"]`. */
export interface ListNode extends Spanned {
  readonly kind: "list";
  readonly items: readonly Node[];
}

const KEYWORDS: Readonly<Record<string, boolean | null>> = { true: true, false: false, null: null };

/**
 * Parses a filter into its syntax tree: calls `name(arg, …)` nest to `maxDepth` levels, and their
 * arguments are names, strings, numbers, `true`/`false`/`null` and lists `[…]`. Throws `Refusal`
 * naming the offset of the first problem.
 */
export function parse(text: string, maxDepth: number): Node {
  const tokens = tokenize(text);
  if (tokens.length === 1) throw new Refusal(0, 'the filter is empty: write a condition such as eq(run_type, "llm")');
  const parser = new Parser(tokens, maxDepth);
  const node = parser.expression(1);
  const rest = parser.peek();
  if (rest.kind !== "end") throw new Refusal(rest.start, `unexpected ${show(rest)} after the end of the filter`);
  return node;
}

class Parser {
  private at = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly maxDepth: number,
  ) {}

  peek(): Token {
    return this.tokens[this.at]!;
  }

  private next(): Token {
    const token = this.tokens[this.at]!;
    if (token.kind !== "end") this.at += 1;
    return token;
  }

  expression(depth: number): Node {
    const token = this.next();
    switch (token.kind) {
      case "ident":
        if (this.peek().kind === "(") return this.call(token, depth);
        if (Object.hasOwn(KEYWORDS, token.text))
          return { kind: "literal", value: KEYWORDS[token.text]!, start: token.start, end: token.end };
        return { kind: "name", name: token.text, start: token.start, end: token.end };
      case "string":
      case "number":
        return { kind: "literal", value: token.value!, start: token.start, end: token.end };
      case "[":
        return this.list(token, depth);
      default:
        throw new Refusal(token.start, `expected a condition, a field or a value, found ${show(token)}`);
    }
  }

  private call(name: Token, depth: number): CallNode {
    if (depth > this.maxDepth) throw new Refusal(name.start, `nests deeper than ${this.maxDepth} calls`);
    this.next();
    const args = this.items(")", `${name.text}(…)`, depth + 1);
    return { kind: "call", name: name.text, args, start: name.start, end: this.tokens[this.at - 1]!.end };
  }

  private list(open: Token, depth: number): ListNode {
    if (depth > this.maxDepth) throw new Refusal(open.start, `nests deeper than ${this.maxDepth} levels`);
    const items = this.items("]", "the list", depth + 1);
    return { kind: "list", items, start: open.start, end: this.tokens[this.at - 1]!.end };
  }

  /** Comma-separated expressions up to `close`, which is consumed. */
  private items(close: ")" | "]", what: string, depth: number): Node[] {
    const items: Node[] = [];
    if (this.peek().kind === close) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.expression(depth));
      const token = this.next();
      if (token.kind === close) return items;
      if (token.kind !== ",")
        throw new Refusal(token.start, `expected "," or "${close}" in ${what}, found ${show(token)}`);
    }
  }
}

function show(token: Token): string {
  return token.kind === "end" ? "the end of the filter" : JSON.stringify(token.text);
}
